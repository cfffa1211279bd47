namespace Paperclip.Transport;

/// <summary>Who a valid client certificate belongs to.</summary>
/// <param name="AccountId">The account id (the certificate's UID).</param>
/// <param name="Username">The username (the certificate's pseudonym).</param>
public sealed record ClientIdentity(long AccountId, string Username);

/// <summary>
/// Decides whether a client certificate is valid (protocol §5.3). The server calls it once per
/// handshake, after the cookie check and before any other asymmetric work on the client's behalf.
/// </summary>
public interface ICertificateValidator
{
    /// <summary>The identity when <paramref name="certificate"/> is valid now, otherwise null.</summary>
    ValueTask<ClientIdentity?> ValidateAsync(ReadOnlyMemory<byte> certificate, CancellationToken cancellationToken);
}
