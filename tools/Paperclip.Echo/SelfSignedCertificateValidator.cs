using Paperclip.Protocol.Certificates;
using Paperclip.Transport;

namespace Paperclip.Echo;

/// <summary>
/// Development trust: an account certificate is accepted when it is well formed (UID and
/// pseudonym), valid now and signed by its own key — any key, since nothing is registered. Never
/// use it where accounts matter: anyone can make such a certificate for any account id.
/// </summary>
internal sealed class SelfSignedCertificateValidator(TimeProvider time) : ICertificateValidator
{
    public ValueTask<ClientIdentity?> ValidateAsync(ReadOnlyMemory<byte> certificate, CancellationToken cancellationToken)
    {
        ClientIdentity? result = null;
        if (AccountCertificate.TryReadIdentity(certificate.Span, out var identity)
            && AccountCertificate.TryReadPublicKey(certificate.Span, out var ownKey)
            && AccountCertificate.Validate(certificate.Span, ownKey, time.GetUtcNow()))
            result = new ClientIdentity(identity.AccountId, identity.Username);
        return ValueTask.FromResult(result);
    }
}
