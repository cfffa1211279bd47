using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Paperclip.GameHost.Agones;

/// <summary>Agones adapter settings (<c>Paperclip:Agones</c>).</summary>
public sealed class AgonesOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Paperclip:Agones";

    /// <summary>Seconds between health pings (default 2; keep it below the fleet's <c>health.periodSeconds</c>, 5 by default).</summary>
    public int HealthSeconds { get; set; } = 2;

    /// <summary>Seconds between tries while the sidecar does not answer yet (it may start after this process). Default 1.</summary>
    public int RetrySeconds { get; set; } = 1;
}

/// <summary>
/// Reports this game host's lifecycle to the Agones sidecar: Ready once the lobby host has started
/// (tried again until the sidecar answers), a health ping every <see cref="AgonesOptions.HealthSeconds"/>
/// while the lobby host runs, Shutdown when the process stops. Timers run on the injected clock.
/// </summary>
public sealed partial class AgonesLifecycle(AgonesSdk sdk, LobbyGameServerHost lobbies, TimeProvider time,
    IOptions<AgonesOptions> options, ILogger<AgonesLifecycle> logger) : BackgroundService
{
    private int _shutdownSent;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var retry = TimeSpan.FromSeconds(options.Value.RetrySeconds);
        while (true)
        {
            try
            {
                await sdk.ReadyAsync(stoppingToken).ConfigureAwait(false);
                LogReady(logger);
                break;
            }
            catch (HttpRequestException e)
            {
                LogSidecarUnreachable(logger, e.Message);
                await Task.Delay(retry, time, stoppingToken).ConfigureAwait(false);
            }
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.HealthSeconds), time);
        do
        {
            if (!lobbies.IsRunning)
                continue;
            try
            {
                await sdk.HealthAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                LogSidecarUnreachable(logger, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        // The host may stop its services twice (stop, then dispose): Agones is told once.
        if (Interlocked.Exchange(ref _shutdownSent, 1) == 1)
            return;
        try
        {
            await sdk.ShutdownAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            LogSidecarUnreachable(logger, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Agones: Ready")]
    private static partial void LogReady(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agones sidecar did not answer: {Reason}")]
    private static partial void LogSidecarUnreachable(ILogger logger, string reason);
}
