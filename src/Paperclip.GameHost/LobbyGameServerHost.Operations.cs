using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Paperclip.Backend.Operations;

namespace Paperclip.GameHost;

/// <summary>The game host's side of operations: its meter, and what the console shows and does.</summary>
public sealed partial class LobbyGameServerHost : ILobbyConsole
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Paperclip.GameHost";

    /// <summary>True from the host's start until it stops: lobbies can be started.</summary>
    public bool IsRunning => _started && !_stopping;

    /// <inheritdoc />
    public IReadOnlyList<PlayerSession> Sessions(long lobbyId) =>
        _lobbies.TryGetValue(lobbyId, out var running)
            ? [.. running.Players.Values.OrderBy(p => p.JoinedAt).Select(p => SessionOf(p))]
            : [];

    /// <inheritdoc />
    public bool RemovePlayer(long lobbyId, long accountId)
    {
        if (!_lobbies.TryGetValue(lobbyId, out var running))
            return false;
        running.RemovedAccounts[accountId] = true;
        var removed = false;
        foreach (var player in running.Players.Values.Where(p => p.AccountId == accountId))
        {
            player.Connection.Disconnect();
            removed = true;
        }
        if (removed)
            LogPlayerRemoved(_logger, accountId, lobbyId);
        return removed;
    }

    private static PlayerSession SessionOf(GamePlayer player)
    {
        var statistics = player.Connection.Statistics;
        return new PlayerSession(player.AccountId, player.Username, statistics.RoundTripTime, statistics.MessagesSent, statistics.Retransmissions,
            statistics.TotalDropped, statistics.BytesSent, statistics.BytesReceived, player.JoinedAt);
    }

    private void CreateInstruments(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        meter.CreateObservableUpDownCounter("paperclip.gamehost.lobbies", () => _lobbies.Count, "{lobby}", "Lobby game servers running in this process.");
        meter.CreateObservableUpDownCounter("paperclip.gamehost.players", () => _lobbies.Values.Sum(l => l.Players.Count), "{player}", "Players connected to this process's lobbies.");
    }

    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Information, Message = "Account {AccountId} removed from lobby {LobbyId} by an operator")]
    private static partial void LogPlayerRemoved(Microsoft.Extensions.Logging.ILogger logger, long accountId, long lobbyId);
}

/// <summary>Ready when the game host runs (started, not stopping): new lobbies can get a game server.</summary>
public sealed class GameHostingHealthCheck(LobbyGameServerHost host) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(host.IsRunning ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("The game host is not running."));
}
