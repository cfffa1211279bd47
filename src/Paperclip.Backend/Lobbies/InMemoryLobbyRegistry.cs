using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Paperclip.Backend.Lobbies;

/// <summary>
/// The lobby registry kept in this process's memory. One lock guards all lobbies, so that a
/// reservation is decided and taken atomically: concurrent matchmaking never over-fills a lobby.
/// Game servers are started and stopped through <see cref="ILobbyServerHost"/> outside the lock.
/// </summary>
public sealed partial class InMemoryLobbyRegistry : ILobbyRegistry
{
    private const int MaxStartAttempts = 16;
    private readonly Lock _lock = new();
    private readonly SortedDictionary<long, Lobby> _lobbies = [];
    private readonly Queue<int> _freePorts = new();
    private readonly ILobbyServerHost _host;
    private readonly TimeProvider _time;
    private readonly ILogger<InMemoryLobbyRegistry> _logger;
    private readonly string _publicHost;
    private readonly TimeSpan _pruneAfter;
    private readonly TimeSpan _reservationLifetime;
    private long _nextId;

    /// <summary>Creates the registry with the ports of <c>Paperclip:Lobbies:PortRange</c>.</summary>
    public InMemoryLobbyRegistry(IOptions<PaperclipOptions> options, ILobbyServerHost host, TimeProvider time, ILogger<InMemoryLobbyRegistry> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var lobbies = options.Value.Lobbies;
        _host = host;
        _time = time;
        _logger = logger;
        _publicHost = lobbies.PublicHost;
        _pruneAfter = lobbies.PruneAfter;
        _reservationLifetime = lobbies.ReservationLifetime;
        var range = PortRange.Parse(lobbies.PortRange);
        for (var port = range.First; port <= range.Last; port++)
        {
            _freePorts.Enqueue(port);
        }
    }

    /// <inheritdoc />
    public LobbySnapshot? GetLobby(long lobbyId)
    {
        lock (_lock)
        {
            return _lobbies.TryGetValue(lobbyId, out var lobby) ? lobby.Snapshot(_time.GetUtcNow()) : null;
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<LobbySnapshot> List()
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            return _lobbies.Values.Select(l => l.Snapshot(now)).ToArray();
        }
    }

    /// <inheritdoc />
    public LobbySnapshot? FindWithSpace(long gameId)
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            return FindFullestWithSpace(gameId, now)?.Snapshot(now);
        }
    }

    /// <inheritdoc />
    public async ValueTask<LobbySnapshot> CreateAsync(GameDescriptor game, long accountId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(game);
        LobbySnapshot snapshot;
        lock (_lock)
        {
            snapshot = CreateLocked(game, accountId, _time.GetUtcNow());
        }

        return await StartAsync(snapshot, accountId, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<LobbyAssignment> MatchmakeAsync(GameDescriptor game, long accountId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(game);
        LobbySnapshot snapshot;
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            foreach (var lobby in _lobbies.Values)
            {
                if (lobby.Game.Id == game.Id && (lobby.Members.Contains(accountId) || lobby.HasLiveReservation(accountId, now)))
                {
                    if (!lobby.Members.Contains(accountId))
                    {
                        lobby.Reservations[accountId] = now + _reservationLifetime;
                    }

                    return new LobbyAssignment(lobby.Snapshot(now), Created: false);
                }
            }

            if (FindFullestWithSpace(game.Id, now) is { } found)
            {
                found.Reservations[accountId] = now + _reservationLifetime;
                return new LobbyAssignment(found.Snapshot(now), Created: false);
            }

            snapshot = CreateLocked(game, accountId, now);
        }

        return new LobbyAssignment(await StartAsync(snapshot, accountId, cancellationToken).ConfigureAwait(false), Created: true);
    }

    /// <inheritdoc />
    public bool MemberJoined(long lobbyId, long accountId)
    {
        lock (_lock)
        {
            if (!_lobbies.TryGetValue(lobbyId, out var lobby))
            {
                return false;
            }

            if (lobby.Members.Contains(accountId))
            {
                return true;
            }

            var now = _time.GetUtcNow();
            lobby.ExpireReservations(now);
            var reserved = lobby.Reservations.Remove(accountId);
            if (!reserved && lobby.Members.Count + lobby.Reservations.Count >= lobby.Game.MaxPlayers)
            {
                return false;
            }

            lobby.Members.Add(accountId);
            LogMemberJoined(_logger, accountId, lobbyId);
            return true;
        }
    }

    /// <inheritdoc />
    public void MemberLeft(long lobbyId, long accountId)
    {
        lock (_lock)
        {
            if (_lobbies.TryGetValue(lobbyId, out var lobby) && lobby.Members.Remove(accountId))
            {
                if (lobby.Members.Count == 0)
                {
                    lobby.EmptySince = _time.GetUtcNow();
                }

                LogMemberLeft(_logger, accountId, lobbyId);
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask<LobbySnapshot?> RemoveAsync(long lobbyId, CancellationToken cancellationToken = default)
    {
        LobbySnapshot removed;
        lock (_lock)
        {
            if (!_lobbies.TryGetValue(lobbyId, out var lobby))
            {
                return null;
            }

            removed = lobby.Snapshot(_time.GetUtcNow());
            RemoveLocked(lobby);
        }

        await _host.StopAsync(lobbyId, cancellationToken).ConfigureAwait(false);
        return removed;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<LobbySnapshot>> PruneAsync(CancellationToken cancellationToken = default)
    {
        List<LobbySnapshot> removed = [];
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            foreach (var lobby in _lobbies.Values.ToArray())
            {
                if (lobby.Members.Count == 0 && now - lobby.EmptySince >= _pruneAfter)
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

    private Lobby? FindFullestWithSpace(long gameId, DateTimeOffset now)
    {
        Lobby? best = null;
        var bestTaken = -1;
        foreach (var lobby in _lobbies.Values)
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
        if (!_freePorts.TryDequeue(out var port))
        {
            throw new LobbyCapacityException("No free port for a new lobby.");
        }

        var lobby = new Lobby(++_nextId, game, new LobbyAddress(_publicHost, port), now);
        lobby.Reservations[accountId] = now + _reservationLifetime;
        _lobbies.Add(lobby.Id, lobby);
        LogCreated(_logger, lobby.Id, game.Name, port);
        return lobby.Snapshot(now);
    }

    private void RemoveLocked(Lobby lobby)
    {
        if (_lobbies.Remove(lobby.Id))
        {
            _freePorts.Enqueue(lobby.Address.Port);
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
                return snapshot;
            }
            catch (Exception ex)
            {
                lock (_lock)
                {
                    if (_lobbies.TryGetValue(snapshot.LobbyId, out var lobby))
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

            lock (_lock)
            {
                snapshot = CreateLocked(snapshot.Game, accountId, _time.GetUtcNow());
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Lobby {LobbyId} created for {Game} on port {Port}")]
    private static partial void LogCreated(ILogger logger, long lobbyId, string game, int port);

    [LoggerMessage(Level = LogLevel.Information, Message = "Lobby {LobbyId} on port {Port} pruned")]
    private static partial void LogPruned(ILogger logger, long lobbyId, int port);

    [LoggerMessage(Level = LogLevel.Error, Message = "The game server of lobby {LobbyId} on port {Port} did not start")]
    private static partial void LogStartFailed(ILogger logger, Exception exception, long lobbyId, int port);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Account {AccountId} joined lobby {LobbyId}")]
    private static partial void LogMemberJoined(ILogger logger, long accountId, long lobbyId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Account {AccountId} left lobby {LobbyId}")]
    private static partial void LogMemberLeft(ILogger logger, long accountId, long lobbyId);

    private sealed class Lobby(long id, GameDescriptor game, LobbyAddress address, DateTimeOffset createdAt)
    {
        public long Id { get; } = id;

        public GameDescriptor Game { get; } = game;

        public LobbyAddress Address { get; } = address;

        public DateTimeOffset CreatedAt { get; } = createdAt;

        public DateTimeOffset EmptySince { get; set; } = createdAt;

        public List<long> Members { get; } = [];

        public Dictionary<long, DateTimeOffset> Reservations { get; } = [];

        public bool HasLiveReservation(long accountId, DateTimeOffset now) =>
            Reservations.TryGetValue(accountId, out var expires) && now < expires;

        public void ExpireReservations(DateTimeOffset now)
        {
            if (Reservations.Count == 0)
            {
                return;
            }

            foreach (var (account, expires) in Reservations)
            {
                if (now >= expires)
                {
                    Reservations.Remove(account);
                }
            }
        }

        public LobbySnapshot Snapshot(DateTimeOffset now)
        {
            ExpireReservations(now);
            return new LobbySnapshot(Id, Game, Address, Members.ToArray(), Reservations.Keys.ToArray(), CreatedAt);
        }
    }
}
