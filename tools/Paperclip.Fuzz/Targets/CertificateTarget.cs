using Paperclip.Backend.Endpoints;
using Paperclip.Protocol.Certificates;

namespace Paperclip.Fuzz.Targets;

/// <summary>
/// <c>certificate</c>: X.509 DER as the protocol and the backend read it: the account identity,
/// validation as an account certificate (against the vector account's key and against the
/// certificate's own key) and as a server certificate, and the backend's decoding of the
/// base64 a client posts. Promised: false, never an exception.
/// </summary>
public static class CertificateTarget
{
    private static readonly byte[] AccountKey = VectorData.AccountPublicKey;
    private static readonly byte[] ServerKey = VectorData.ServerPublicKey;
    private static readonly DateTimeOffset Now = VectorData.CheckTime;

    public static void Run(ReadOnlySpan<byte> der)
    {
        if (AccountCertificate.TryReadIdentity(der, out var identity) && identity.AccountId < 0)
            throw new FindingException($"A negative account id {identity.AccountId} was read.");
        ServerCertificate.HasAccountId(der);
        AccountCertificate.Validate(der, AccountKey, Now);
        ServerCertificate.Validate(der, ServerKey, Now);
        if (CertificateParts.TryParse(der, out var parts))
        {
            // The certificate's own SPKI, whatever a mutation made of it, as the registered key.
            AccountCertificate.Validate(der, parts.SubjectPublicKeyInfo.Span, Now);
        }
        AuthEndpoints.TryDecodeCertificate(Convert.ToBase64String(der), out _);
    }
}
