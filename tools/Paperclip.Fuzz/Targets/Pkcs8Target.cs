using System.Security.Cryptography;
using Paperclip.Protocol.Certificates;

namespace Paperclip.Fuzz.Targets;

/// <summary>
/// <c>pkcs8</c>: the account key a client downloads (<c>GET /auth/key</c>: PKCS#8
/// EncryptedPrivateKeyInfo) imported with the account's password, and the same bytes as a
/// server key file (PrivateKeyInfo). Promised: false for the first; the second throws only
/// <see cref="CryptographicException"/>.
/// </summary>
public static class Pkcs8Target
{
    private static readonly string Password = VectorData.AccountPassword;

    public static void Run(ReadOnlySpan<byte> pkcs8)
    {
        if (AccountKey.TryImportEncrypted(pkcs8, Password, out var key))
            key.Dispose();
        try
        {
            AccountKey.ImportPrivateKey(pkcs8).Dispose();
        }
        catch (CryptographicException)
        {
            // The documented refusal of anything that is not such a key.
        }
    }
}
