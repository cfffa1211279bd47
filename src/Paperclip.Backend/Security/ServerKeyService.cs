using System.Security.Cryptography;
using Paperclip.Protocol.Certificates;

namespace Paperclip.Backend.Security;

/// <summary>
/// The backend's server key: it signs the server certificates that lobby game servers present
/// (protocol.md §5.3), and its public key is published at <c>/auth/server-key</c>.
/// </summary>
public sealed class ServerKeyService : IDisposable
{
    private readonly AsymmetricAlgorithm _key;

    /// <summary>Loads (or generates at first start) the server key.</summary>
    public ServerKeyService(SecretStore secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        var pkcs8 = secrets.LoadServerKeyPkcs8();
        try
        {
            _key = AccountKey.ImportPrivateKey(pkcs8);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }

        PublicKey = AccountKey.ExportPublicKey(_key);
        PublicKeyBase64 = Convert.ToBase64String(PublicKey);
    }

    /// <summary>The server public key, SubjectPublicKeyInfo DER.</summary>
    public byte[] PublicKey { get; }

    /// <summary>The server public key, SubjectPublicKeyInfo DER in base64.</summary>
    public string PublicKeyBase64 { get; }

    /// <summary>Issues a server certificate signed by the server key (for lobby game servers).</summary>
    public byte[] CreateCertificate(DateTimeOffset notBefore, TimeSpan validity, string commonName = "localhost") =>
        ServerCertificate.Create(_key, notBefore, validity, commonName: commonName);

    /// <summary>Checks a server certificate against the server key at <paramref name="now"/>.</summary>
    public bool Validate(ReadOnlySpan<byte> certificateDer, DateTimeOffset now) =>
        ServerCertificate.Validate(certificateDer, PublicKey, now);

    /// <summary>A copy of the server private key, for a game server that must sign its handshake; the caller disposes it.</summary>
    public AsymmetricAlgorithm ExportPrivateKey()
    {
        var pkcs8 = _key.ExportPkcs8PrivateKey();
        try
        {
            return AccountKey.ImportPrivateKey(pkcs8);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _key.Dispose();
}
