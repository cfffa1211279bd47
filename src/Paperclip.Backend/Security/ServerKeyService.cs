using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Paperclip.Protocol.Certificates;

namespace Paperclip.Backend.Security;

/// <summary>
/// The backend's server key: it signs the server certificates that game hosts present
/// (protocol.md §5.3), and its public key is published at <c>/auth/server-key</c>. The private
/// key never leaves this object: a game host has its own key pair, and gets a short-lived
/// certificate for its public key from <see cref="IssueHostCertificate"/>.
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

    /// <summary>
    /// A server certificate for a game host's own key (<paramref name="hostPublicKey"/>,
    /// SubjectPublicKeyInfo DER), signed by the server key: subject and issuer O=Paperclip,
    /// CN=<paramref name="commonName"/>, SAN DNS:localhost, random serial, as
    /// <see cref="ServerCertificate.Create"/> writes them, so clients check it the same way.
    /// </summary>
    /// <exception cref="CryptographicException"><paramref name="hostPublicKey"/> is not a public key.</exception>
    public byte[] IssueHostCertificate(ReadOnlySpan<byte> hostPublicKey, DateTimeOffset notBefore, TimeSpan validity, string commonName = "localhost")
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(validity, TimeSpan.Zero);
        var subjectKey = System.Security.Cryptography.X509Certificates.PublicKey.CreateFromSubjectPublicKeyInfo(hostPublicKey, out var read);
        if (read != hostPublicKey.Length || (subjectKey.GetECDsaPublicKey() is null && subjectKey.GetRSAPublicKey() is null))
            throw new CryptographicException("The host key is not an ECDSA or RSA SubjectPublicKeyInfo.");

        var name = Name("Paperclip", commonName);
        var request = new CertificateRequest(name, subjectKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        var generator = _key switch
        {
            RSA rsa => X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1),
            ECDsa ecdsa => X509SignatureGenerator.CreateForECDsa(ecdsa),
            _ => throw new InvalidOperationException($"The server key is a {_key.GetType().Name}."),
        };

        // Whole seconds, as X.509 stores them, so the encoded span never exceeds validity.
        var start = notBefore.UtcDateTime;
        start = start.AddTicks(-(start.Ticks % TimeSpan.TicksPerSecond));
        var end = start + validity;
        end = end.AddTicks(-(end.Ticks % TimeSpan.TicksPerSecond));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);
        using var certificate = request.Create(name, generator, start, end, serial);
        return certificate.RawData;
    }

    // O then CN, in that order in the DER (X500DistinguishedNameBuilder would reverse them).
    private static X500DistinguishedName Name(string organization, string commonName)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            foreach (var (oid, value) in new[] { ("2.5.4.10", organization), ("2.5.4.3", commonName) })
            {
                using (writer.PushSetOf())
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(oid);
                    writer.WriteCharacterString(UniversalTagNumber.UTF8String, value);
                }
            }
        }
        return new X500DistinguishedName(writer.Encode());
    }

    /// <inheritdoc />
    public void Dispose() => _key.Dispose();
}
