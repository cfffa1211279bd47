using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Paperclip.Backend.Lobbies;
using Paperclip.Backend.Lobbies.Redis;
using Paperclip.Contracts;

namespace Paperclip.GameHost.Node;

/// <summary>
/// A game-host node (<c>Mode=GameHost</c>): registers this process's port range in Redis, heartbeats
/// on the injected clock, starts and stops lobby servers on the registry's pub/sub commands (and on
/// what each heartbeat answer says, so a lost message costs one heartbeat period), and reports their
/// states. Fenced (declared dead while paused, or Redis lost its state): it stops every lobby it
/// runs and registers again, trusting nothing it had. Stopping: Draining, lobbies stopped, deregistered.
/// Idle lobbies cost nothing here: the only timer is the heartbeat.
/// </summary>
public sealed partial class GameHostNode(RedisGameHostClient client, LobbyGameServerHost host, TimeProvider time, ILogger<GameHostNode> logger) : BackgroundService
{
    private readonly Channel<GameHostCommand> _commands = Channel.CreateUnbounded<GameHostCommand>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Counts completed heartbeats (for tests and metrics).</summary>
    public long Heartbeats => Interlocked.Read(ref _heartbeats);

    /// <summary>Counts registrations (the first, and one after each fencing).</summary>
    public long Registrations => Interlocked.Read(ref _registrations);

    private long _heartbeats;
    private long _registrations;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var subscriber = client.Store.Connection.GetSubscriber();
        await subscriber.SubscribeAsync(client.Store.CommandChannel(client.HostId), (_, message) =>
        {
            if (GameHostCommand.Parse(message) is { } command)
                _commands.Writer.TryWrite(command);
        }).ConfigureAwait(false);
        await RegisterAsync(stoppingToken).ConfigureAwait(false);

        using var timer = new PeriodicTimer(client.Store.Options.HeartbeatInterval, time);
        var tick = timer.WaitForNextTickAsync(stoppingToken).AsTask();
        var command = _commands.Reader.ReadAsync(stoppingToken).AsTask();
        try
        {
            while (true)
            {
                // The tick first: when both are ready, the heartbeat waits for no more than the command in hand.
                var done = await Task.WhenAny(tick, command).ConfigureAwait(false);
                try
                {
                    if (done == tick)
                    {
                        if (!await tick.ConfigureAwait(false))
                            return;
                        tick = timer.WaitForNextTickAsync(stoppingToken).AsTask();
                        await HeartbeatAsync().ConfigureAwait(false);
                    }
                    else
                    {
                        var next = await command.ConfigureAwait(false);
                        command = _commands.Reader.ReadAsync(stoppingToken).AsTask();
                        await (next.Start ? StartLobbyAsync(next.LobbyId, stoppingToken) : StopLobbyAsync(next.LobbyId)).ConfigureAwait(false);
                    }
                }
                catch (GameHostFencedException)
                {
                    LogFenced(logger, client.HostId, client.Epoch);
                    await StopAllAsync().ConfigureAwait(false);
                    await RegisterAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (LobbyRegistryUnavailableException e)
                {
                    // Redis is away: keep the lobbies; the next heartbeat tells whether we were fenced meanwhile.
                    LogUnavailable(logger, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await client.DrainAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is GameHostFencedException or LobbyRegistryUnavailableException)
        {
            LogUnavailable(logger, e);
        }
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await StopAllAsync().ConfigureAwait(false);
        try
        {
            await client.DeregisterAsync().ConfigureAwait(false);
        }
        catch (LobbyRegistryUnavailableException e)
        {
            LogUnavailable(logger, e);
        }
    }

    private async Task RegisterAsync(CancellationToken cancellationToken)
    {
        for (var delay = TimeSpan.FromMilliseconds(200); ; delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, client.Store.Options.HeartbeatInterval.Ticks)))
        {
            try
            {
                var epoch = await client.RegisterAsync().ConfigureAwait(false);
                Interlocked.Increment(ref _registrations);
                LogRegistered(logger, client.HostId, epoch);
                return;
            }
            catch (LobbyRegistryUnavailableException e)
            {
                LogUnavailable(logger, e);
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // What the answer says differs from what runs is queued behind the commands, not done here: a
    // burst of lobbies started inline would hold back the next heartbeat past the host timeout, and
    // the host would be declared dead with every lobby it had just started.
    private async Task HeartbeatAsync()
    {
        var expected = await client.HeartbeatAsync().ConfigureAwait(false);
        Interlocked.Increment(ref _heartbeats);
        foreach (var (lobbyId, state) in expected.Lobbies)
        {
            if (state == LobbyState.Scheduled && !host.IsRunningLobby(lobbyId))
                _commands.Writer.TryWrite(new GameHostCommand(Start: true, lobbyId));
        }
        foreach (var lobbyId in host.RunningLobbies)
        {
            if (!expected.Lobbies.ContainsKey(lobbyId))
                _commands.Writer.TryWrite(new GameHostCommand(Start: false, lobbyId));
        }
    }

    private async Task StartLobbyAsync(long lobbyId, CancellationToken cancellationToken)
    {
        if (host.IsRunningLobby(lobbyId) || await client.GetLobbyAsync(lobbyId).ConfigureAwait(false) is not { } lobby)
            return;
        try
        {
            await host.StartAsync(lobby, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The lobby leaves the registry; its players matchmake again.
            LogStartFailed(logger, e, lobbyId);
            await client.ReportStateAsync(lobbyId, LobbyState.Shutdown, cancellationToken).ConfigureAwait(false);
            return;
        }
        await client.ReportStateAsync(lobbyId, LobbyState.Ready, cancellationToken).ConfigureAwait(false);
    }

    private async Task StopLobbyAsync(long lobbyId) => await host.StopAsync(lobbyId, CancellationToken.None).ConfigureAwait(false);

    private async Task StopAllAsync()
    {
        foreach (var lobbyId in host.RunningLobbies)
            await StopLobbyAsync(lobbyId).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Game host {HostId} registered with epoch {Epoch}")]
    private static partial void LogRegistered(ILogger logger, string hostId, long epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Game host {HostId} (epoch {Epoch}) was fenced: its lobbies stop and it registers again")]
    private static partial void LogFenced(ILogger logger, string hostId, long epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The lobby registry did not answer")]
    private static partial void LogUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Lobby {LobbyId} did not start")]
    private static partial void LogStartFailed(ILogger logger, Exception exception, long lobbyId);
}
