using Microsoft.Extensions.Logging;
using Paperclip.Games;

namespace Paperclip.Backend.Lobbies;

/// <summary>
/// The lobby registry kept in this process's memory (the embedded default): the lobbies are an
/// <see cref="InMemoryLobbyTable"/>, whose lock makes a reservation's decision and taking atomic,
/// so concurrent matchmaking never over-fills a lobby. Game servers are started and stopped
/// through <see cref="ILobbyServerHost"/> outside the lock; they report members to the table.
/// </summary>
public sealed partial class InMemoryLobbyRegistry : ILobbyRegistry
{
    private const int MaxStartAttempts = 16;
    private readonly InMemoryLobbyTable _table;
    private readonly ILobbyServerHost _host;
    private readonly ILogger<InMemoryLobbyRegistry> _logger;

    /// <summary>Creates the registry over <paramref name="table"/>, starting game servers on <paramref name="host"/>.</summary>
    public InMemoryLobbyRegistry(InMemoryLobbyTable table, ILobbyServerHost host, ILogger<InMemoryLobbyRegistry> logger)
    {
        _table = table;
        _host = host;
        _logger = logger;
    }

    /// <inheritdoc />
    public ValueTask<LobbySnapshot?> GetLobbyAsync(long lobbyId, CancellationToken cancellationToken = default)
    {
        lock (_table.Lock)
        {
            return ValueTask.FromResult(_table.Lobbies.TryGetValue(lobbyId, out var lobby) ? lobby.Snapshot(_table.Time.GetUtcNow()) : null);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<LobbySnapshot>> ListAsync(CancellationToken cancellationToken = default)
    {
        lock (_table.Lock)
        {
            var now = _table.Time.GetUtcNow();
            return ValueTask.FromResult<IReadOnlyList<LobbySnapshot>>(_table.Lobbies.Values.Select(l => l.Snapshot(now)).ToArray());
        }
    }

    /// <inheritdoc />
    public ValueTask<LobbySnapshot?> FindWithSpaceAsync(long gameId, CancellationToken cancellationToken = default)
    {
        lock (_table.Lock)
        {
            var now = _table.Time.GetUtcNow();
            return ValueTask.FromResult(FindFullestWithSpace(gameId, now)?.Snapshot(now));
        }
    }

    /// <inheritdoc />
    public async ValueTask<LobbySnapshot> CreateAsync(GameDescriptor game, long accountId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(game);
        LobbySnapshot snapshot;
        lock (_table.Lock)
        {
            snapshot = CreateLocked(game, accountId, _table.Time.GetUtcNow());
        }

        return await StartAsync(snapshot, accountId, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<LobbyAssignment> MatchmakeAsync(GameDescriptor game, long accountId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(game);
        LobbySnapshot snapshot;
        lock (_table.Lock)
        {
            var now = _table.Time.GetUtcNow();
            foreach (var lobby in _table.Lobbies.Values)
            {
                if (lobby.Game.Id == game.Id && (lobby.Members.Contains(accountId) || lobby.HasLiveReservation(accountId, now)))
                {
                    if (!lobby.Members.Contains(accountId))
                    {
                        lobby.Reservations[accountId] = now + _table.ReservationLifetime;
                    }

                    return new LobbyAssignment(lobby.Snapshot(now), Created: false);
                }
            }

            if (FindFullestWithSpace(game.Id, now) is { } found)
            {
                found.Reservations[accountId] = now + _table.ReservationLifetime;
                return new LobbyAssignment(found.Snapshot(now), Created: false);
            }

            snapshot = CreateLocked(game, accountId, now);
        }

        return new LobbyAssignment(await StartAsync(snapshot, accountId, cancellationToken).ConfigureAwait(false), Created: true);
    }

    /// <inheritdoc />
    public async ValueTask<LobbySnapshot?> RemoveAsync(long lobbyId, CancellationToken cancellationToken = default)
    {
        LobbySnapshot removed;
        lock (_table.Lock)
        {
            if (!_table.Lobbies.TryGetValue(lobbyId, out var lobby))
            {
                return null;
            }

            removed = lobby.Snapshot(_table.Time.GetUtcNow());
            RemoveLocked(lobby);
        }

        await _host.StopAsync(lobbyId, cancellationToken).ConfigureAwait(false);
        return removed;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<LobbySnapshot>> PruneAsync(CancellationToken cancellationToken = default)
    {
        List<LobbySnapshot> removed = [];
        lock (_table.Lock)
        {
            var now = _table.Time.GetUtcNow();
            foreach (var lobby in _table.Lobbies.Values.ToArray())
            {
                if (lobby.Members.Count == 0 && now - lobby.EmptySince >= _table.PruneAfter)
                {
                    removed.Add(lobby.Snapshot(now));
                    RemoveLocked(lobby);
                }
                else
                {
                    lobby.ExpireReservations(now);
                }
            }
        }

        foreach (var lobby in removed)
        {
            LogPruned(_logger, lobby.LobbyId, lobby.Address.Port);
            await _host.StopAsync(lobby.LobbyId, cancellationToken).ConfigureAwait(false);
        }

        return removed;
    }

    private InMemoryLobbyTable.Lobby? FindFullestWithSpace(long gameId, DateTimeOffset now)
    {
        InMemoryLobbyTable.Lobby? best = null;
        var bestTaken = -1;
        foreach (var lobby in _table.Lobbies.Values)
        {
            if (lobby.Game.Id != gameId)
            {
                continue;
            }

            lobby.ExpireReservations(now);
            var taken = lobby.Members.Count + lobby.Reservations.Count;
            if (taken < lobby.Game.MaxPlayers && taken > bestTaken)
            {
                best = lobby;
                bestTaken = taken;
            }
        }

        return best;
    }

    private LobbySnapshot CreateLocked(GameDescriptor game, long accountId, DateTimeOffset now)
    {
        if (!_table.FreePorts.TryDequeue(out var port))
        {
            throw new LobbyCapacityException("No free port for a new lobby.");
        }

        var lobby = new InMemoryLobbyTable.Lobby(++_table.NextId, game, new LobbyAddress(_table.PublicHost, port), now);
        lobby.Reservations[accountId] = now + _table.ReservationLifetime;
        _table.Lobbies.Add(lobby.Id, lobby);
        LogCreated(_logger, lobby.Id, game.Name, port);
        return lobby.Snapshot(now);
    }

    private void RemoveLocked(InMemoryLobbyTable.Lobby lobby)
    {
        if (_table.Lobbies.Remove(lobby.Id))
        {
            _table.FreePorts.Enqueue(lobby.Address.Port);
        }
    }

    // Starts the lobby's game server. A port another program holds costs this lobby, not the
    // caller: a new lobby on the next free port is tried instead.
    private async ValueTask<LobbySnapshot> StartAsync(LobbySnapshot snapshot, long accountId, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _host.StartAsync(snapshot, cancellationToken).ConfigureAwait(false);
                lock (_table.Lock)
                {
                    if (_table.Lobbies.TryGetValue(snapshot.LobbyId, out var started))
                    {
                        started.Listening = true;
                        return started.Snapshot(_table.Time.GetUtcNow());
                    }
                }

                return snapshot;
            }
            catch (Exception ex)
            {
                lock (_table.Lock)
                {
                    if (_table.Lobbies.TryGetValue(snapshot.LobbyId, out var lobby))
                    {
                        RemoveLocked(lobby);
                    }
                }

                LogStartFailed(_logger, ex, snapshot.LobbyId, snapshot.Address.Port);
                if (ex is not LobbyPortUnavailableException || attempt == MaxStartAttempts)
                {
                    throw new LobbyCapacityException($"The game server of lobby {snapshot.LobbyId} did not start.", ex);
                }
            }

            lock (_table.Lock)
            {
                snapshot = CreateLocked(snapshot.Game, accountId, _table.Time.GetUtcNow());
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Lobby {LobbyId} created for {Game} on port {Port}")]
    private static partial void LogCreated(ILogger logger, long lobbyId, string game, int port);

    [LoggerMessage(Level = LogLevel.Information, Message = "Lobby {LobbyId} on port {Port} pruned")]
    private static partial void LogPruned(ILogger logger, long lobbyId, int port);

    [LoggerMessage(Level = LogLevel.Error, Message = "The game server of lobby {LobbyId} on port {Port} did not start")]
    private static partial void LogStartFailed(ILogger logger, Exception exception, long lobbyId, int port);
}
