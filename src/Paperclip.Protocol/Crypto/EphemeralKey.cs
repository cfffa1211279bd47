using System.Security.Cryptography;

namespace Paperclip.Protocol.Crypto;

/// <summary>A fresh P-256 key pair for one handshake (protocol §6.1).</summary>
public sealed class EphemeralKey : IDisposable
{
    /// <summary>Bytes of the ECDH shared secret Z.</summary>
    public const int SharedSecretSize = 32;

    private const int ScalarSize = 32;

    private readonly ECDiffieHellman _key;

    private EphemeralKey(ECDiffieHellman key)
    {
        _key = key;
        PublicKey = key.ExportSubjectPublicKeyInfo();
    }

    /// <summary>The public key as SubjectPublicKeyInfo DER: the KEY field of AUTH.</summary>
    public byte[] PublicKey { get; }

    /// <summary>Makes a new random key pair.</summary>
    public static EphemeralKey Generate() => new(ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256));

    /// <summary>Rebuilds a key pair from its 32-byte private scalar (for test vectors).</summary>
    public static EphemeralKey FromPrivateScalar(ReadOnlySpan<byte> scalar32)
    {
        if (scalar32.Length != ScalarSize)
            throw new ArgumentException($"A P-256 private scalar is {ScalarSize} bytes.", nameof(scalar32));
        var d = scalar32.ToArray();
        var key = ECDiffieHellman.Create();
        try
        {
            // Without Q the platform derives the public point from D.
            key.ImportParameters(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = d });
            return new EphemeralKey(key);
        }
        catch
        {
            key.Dispose();
            throw;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(d);
        }
    }

    /// <summary>
    /// ECDH with the peer's public key (SubjectPublicKeyInfo DER): writes the 32-byte shared secret Z.
    /// </summary>
    /// <returns>False, never an exception, for a malformed SPKI, a key not on P-256 or an invalid point.</returns>
    public bool TryDeriveSharedSecret(ReadOnlySpan<byte> peerPublicKey, Span<byte> sharedSecret)
    {
        if (sharedSecret.Length < SharedSecretSize)
            throw new ArgumentException($"The destination must hold {SharedSecretSize} bytes.", nameof(sharedSecret));

        if (!Signatures.IsNamedP256(peerPublicKey))
            return false;
        using var peer = ECDiffieHellman.Create();
        byte[]? z = null;
        try
        {
            peer.ImportSubjectPublicKeyInfo(peerPublicKey, out var read);
            if (read != peerPublicKey.Length)
                return false;
            using var peerKey = peer.PublicKey;
            z = _key.DeriveRawSecretAgreement(peerKey);
            if (z.Length != SharedSecretSize)
                return false;
            z.CopyTo(sharedSecret);
            return true;
        }
        catch (CryptographicException)
        {
            // Malformed DER, an unsupported curve or a point off the curve.
            return false;
        }
        finally
        {
            if (z is not null)
                CryptographicOperations.ZeroMemory(z);
        }
    }

    /// <summary>Frees the key pair.</summary>
    public void Dispose() => _key.Dispose();

}
