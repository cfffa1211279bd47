using System.Security.Cryptography;

namespace Paperclip.Protocol.Certificates;

/// <summary>
/// Server certificates (protocol §5.3): signed by the backend's server key, subject O and CN
/// and no UID. The backend gives them to its lobby game servers.
/// </summary>
public static class ServerCertificate
{
    /// <summary>
    /// Issues a certificate for <paramref name="serverKey"/>, signed by it: subject = issuer =
    /// O=<paramref name="organization"/>, CN=<paramref name="commonName"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="validity"/> is not positive.</exception>
    public static byte[] Create(AsymmetricAlgorithm serverKey, DateTimeOffset notBefore, TimeSpan validity,
        string organization = "Paperclip", string commonName = "localhost") =>
        CertificateFactory.CreateSelfSigned(serverKey, notBefore, validity, organization, commonName);

    /// <summary>
    /// Checks a server certificate: its signature verifies with <paramref name="serverPublicKey"/>
    /// (SubjectPublicKeyInfo DER), <paramref name="now"/> lies within its validity and it has no UID.
    /// </summary>
    /// <returns>False, never an exception, for anything else.</returns>
    public static bool Validate(ReadOnlySpan<byte> certificateDer, ReadOnlySpan<byte> serverPublicKey, DateTimeOffset now) =>
        CertificateParts.TryParse(certificateDer, out var parts)
        && parts.UserIdCount == 0
        && parts.IsValidAt(now)
        && parts.IsSignedBy(serverPublicKey);

    /// <summary>True when the certificate carries a UID, i.e. claims to be an account certificate; false for garbage.</summary>
    public static bool HasAccountId(ReadOnlySpan<byte> certificateDer) =>
        CertificateParts.TryParse(certificateDer, out var parts) && parts.UserIdCount > 0;
}
