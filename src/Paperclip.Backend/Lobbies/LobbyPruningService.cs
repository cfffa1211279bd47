using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Paperclip.Backend.Security;

namespace Paperclip.Backend.Lobbies;

/// <summary>Periodically prunes empty lobbies and expired login counters, on the injected clock.</summary>
public sealed partial class LobbyPruningService(
    ILobbyRegistry registry,
    LoginThrottle throttle,
    CredentialCache credentials,
    IOptions<PaperclipOptions> options,
    TimeProvider time,
    ILogger<LobbyPruningService> logger) : BackgroundService
{
    /// <summary>One pruning pass.</summary>
    public async Task PruneOnceAsync(CancellationToken cancellationToken)
    {
        await registry.PruneAsync(cancellationToken).ConfigureAwait(false);
        throttle.Prune();
        credentials.Prune();
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
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogPruneFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Pruning failed")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);
}
