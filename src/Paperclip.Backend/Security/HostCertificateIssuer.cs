using Microsoft.Extensions.Options;

namespace Paperclip.Backend.Security;

/// <summary>
/// Gives a game host a server certificate for its own public key: in-process in the embedded
/// mode, over HTTP from an API node in the cluster's <c>GameHost</c> mode.
/// </summary>
public interface IHostCertificateIssuer
{
    /// <summary>A certificate (DER) for <paramref name="hostPublicKey"/> (SubjectPublicKeyInfo DER), signed by the backend's server key.</summary>
    ValueTask<byte[]> IssueAsync(ReadOnlyMemory<byte> hostPublicKey, CancellationToken cancellationToken);
}

/// <summary>Issues host certificates with this process's server key (API nodes and the embedded mode).</summary>
public sealed class ServerKeyHostCertificateIssuer(ServerKeyService serverKey, TimeProvider time, IOptions<PaperclipOptions> options) : IHostCertificateIssuer
{
    /// <summary>How far back a certificate's validity starts, for hosts whose clock runs behind.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <inheritdoc />
    public ValueTask<byte[]> IssueAsync(ReadOnlyMemory<byte> hostPublicKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var lifetime = options.Value.Cluster.HostCertificateLifetime;
        return ValueTask.FromResult(serverKey.IssueHostCertificate(hostPublicKey.Span, time.GetUtcNow() - ClockSkew, lifetime + ClockSkew));
    }
}
