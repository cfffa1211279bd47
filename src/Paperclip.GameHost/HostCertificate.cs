using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Paperclip.Backend.Security;
using Paperclip.Protocol.Certificates;

namespace Paperclip.GameHost;

/// <summary>
/// This game host's own key pair, generated at start and never written anywhere, and its
/// current server certificate, issued for the key by the backend's server key. The certificate is
/// renewed when two thirds of its validity have passed (on the injected clock); a failed renewal
/// is tried again after a tenth of the validity. <see cref="Renewed"/> tells the running lobby
/// servers, which took the certificate at their start.
/// </summary>
public sealed partial class HostCertificate : IDisposable
{
    private readonly IHostCertificateIssuer _issuer;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly SemaphoreSlim _renewing = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private ITimer? _timer;
    private volatile Issued? _current;

    /// <summary>Generates the key; the first certificate comes with <see cref="RenewAsync"/> (the lobby host calls it at start).</summary>
    public HostCertificate(IHostCertificateIssuer issuer, TimeProvider time, ILogger<HostCertificate> logger)
    {
        _issuer = issuer;
        _time = time;
        _logger = logger;
        PublicKey = AccountKey.ExportPublicKey(_key);
    }

    /// <summary>The host's public key, SubjectPublicKeyInfo DER.</summary>
    public byte[] PublicKey { get; }

    /// <summary>The current certificate (DER).</summary>
    /// <exception cref="InvalidOperationException">None was issued yet.</exception>
    public byte[] Certificate => (_current ?? throw new InvalidOperationException("The game host has no certificate yet.")).Der;

    /// <summary>When the current certificate expires; null before the first.</summary>
    public DateTimeOffset? NotAfter => _current?.NotAfter;

    /// <summary>
    /// A new certificate was issued (the key stays the same); raised after <see cref="Certificate"/>
    /// returns it, on the renewing thread, one renewal at a time.
    /// </summary>
    public event Action<byte[]>? Renewed;

    /// <summary>When the next renewal is due; null before the first certificate.</summary>
    public DateTimeOffset? RenewAt { get; private set; }

    /// <summary>A copy of the host's private key for one lobby's server (its signing runs on that server's threads); the caller disposes it.</summary>
    public AsymmetricAlgorithm CreatePrivateKeyCopy()
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

    /// <summary>Asks the issuer for a certificate now and schedules the next renewal.</summary>
    public async Task RenewAsync(CancellationToken cancellationToken)
    {
        await _renewing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var der = await _issuer.IssueAsync(PublicKey, cancellationToken).ConfigureAwait(false);
            using var parsed = X509CertificateLoader.LoadCertificate(der);
            var issued = new Issued(der, new DateTimeOffset(parsed.NotBefore.ToUniversalTime()), new DateTimeOffset(parsed.NotAfter.ToUniversalTime()));
            var now = _time.GetUtcNow();
            if (issued.NotAfter <= now)
                throw new InvalidOperationException($"The issued host certificate expired at {issued.NotAfter:O}.");
            _current = issued;
            // Two thirds from now towards the expiry: early enough to survive a few failed tries.
            Schedule(TimeSpan.FromTicks((issued.NotAfter - now).Ticks * 2 / 3));
            LogIssued(_logger, issued.NotAfter);
            Renewed?.Invoke(der);
        }
        finally
        {
            _renewing.Release();
        }
    }

    private void Schedule(TimeSpan delay)
    {
        RenewAt = _time.GetUtcNow() + delay;
        _timer?.Dispose();
        _timer = _time.CreateTimer(_ => _ = RenewInBackgroundAsync(), null, delay, Timeout.InfiniteTimeSpan);
    }

    private async Task RenewInBackgroundAsync()
    {
        try
        {
            await RenewAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (!_stopping.IsCancellationRequested)
        {
            var current = _current!;
            var retry = TimeSpan.FromTicks(Math.Max((current.NotAfter - current.NotBefore).Ticks / 10, TimeSpan.TicksPerSecond));
            LogRenewalFailed(_logger, e, current.NotAfter, retry);
            Schedule(retry);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _stopping.Cancel();
        _timer?.Dispose();
        _key.Dispose();
        _renewing.Dispose();
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Game host certificate issued, valid until {NotAfter:O}")]
    private static partial void LogIssued(ILogger logger, DateTimeOffset notAfter);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the game host certificate (valid until {NotAfter:O}) failed; trying again in {Retry}")]
    private static partial void LogRenewalFailed(ILogger logger, Exception exception, DateTimeOffset notAfter, TimeSpan retry);

    private sealed record Issued(byte[] Der, DateTimeOffset NotBefore, DateTimeOffset NotAfter);
}
