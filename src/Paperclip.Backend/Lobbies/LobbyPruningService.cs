using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Paperclip.Backend.Security;

namespace Paperclip.Backend.Lobbies;

/// <summary>
/// Periodically prunes expired login counters and empty lobbies, on the injected clock. A
/// registry that does not answer (Redis away) is logged once when it goes and once when it is
/// back, not on every pass.
/// </summary>
public sealed partial class LobbyPruningService(
    ILobbyRegistry registry,
    LoginThrottle throttle,
    CredentialCache credentials,
    IOptions<PaperclipOptions> options,
    TimeProvider time,
    ILogger<LobbyPruningService> logger) : BackgroundService
{
    private bool _registryAway;
    private long _passes;

    /// <summary>Counts the timer's passes, failed or not (for tests and metrics).</summary>
    public long Passes => Interlocked.Read(ref _passes);

    /// <summary>One pruning pass.</summary>
    public async Task PruneOnceAsync(CancellationToken cancellationToken)
    {
        // This process's own state first: a registry that does not answer must not keep it growing.
        throttle.Prune();
        credentials.Prune();
        await registry.PruneAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var interval = options.Value.Lobbies.PruneInterval;
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await PruneOnceAsync(stoppingToken).ConfigureAwait(false);
                    if (_registryAway)
                    {
                        _registryAway = false;
                        LogRegistryBack(logger);
                    }
                }
                catch (LobbyRegistryUnavailableException e)
                {
                    if (!_registryAway)
                    {
                        _registryAway = true;
                        LogRegistryAway(logger, e.Message);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogPruneFailed(logger, ex);
                }
                Interlocked.Increment(ref _passes);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Pruning failed")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lobbies are not pruned while the registry does not answer: {Reason}")]
    private static partial void LogRegistryAway(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "The lobby registry answers again: pruning resumed")]
    private static partial void LogRegistryBack(ILogger logger);
}
