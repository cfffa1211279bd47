using Paperclip.Protocol.Crypto;

namespace Paperclip.Fuzz.Targets;

/// <summary>
/// <c>spki</c>: a SubjectPublicKeyInfo (AUTH's KEY, a certificate's key, a registered key) as the
/// protocol imports it: the algorithm read from the DER, the import with its key size and curve
/// checks, a signature check and ECDH. Promised: false, never an exception.
/// </summary>
public static class SpkiTarget
{
    private static readonly EphemeralKey Ephemeral = EphemeralKey.Generate();
    private static readonly byte[] Signed = "paperclip"u8.ToArray();
    private static readonly byte[] Signature = new byte[256];

    public static void Run(ReadOnlySpan<byte> spki)
    {
        Signatures.ReadAlgorithm(spki);
        var named = Signatures.IsNamedP256(spki);
        if (Signatures.TryImportPublicKey(spki, out var key))
        {
            using (key)
            {
                if (key is System.Security.Cryptography.ECDsa && !named)
                    throw new FindingException("An EC key that does not name P-256 was imported.");
            }
        }
        Span<byte> secret = stackalloc byte[EphemeralKey.SharedSecretSize];
        if (Ephemeral.TryDeriveSharedSecret(spki, secret) && !named)
            throw new FindingException("ECDH with a key that does not name P-256 succeeded.");
        Signatures.Verify(spki, Signed, Signature);
    }
}
