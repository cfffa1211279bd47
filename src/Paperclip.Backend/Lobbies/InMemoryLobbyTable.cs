using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Paperclip.Contracts;
using Paperclip.Games;

namespace Paperclip.Backend.Lobbies;

/// <summary>
/// The lobbies of the in-memory registry, and the membership view its game servers report to.
/// One lock guards all lobbies, so that a reservation is decided and taken atomically. The
/// registry (which starts game servers) and the game servers (which report members) both
/// depend on this table, not on each other.
/// </summary>
public sealed partial class InMemoryLobbyTable : ILobbyMembership
{
    private readonly ILogger<InMemoryLobbyTable> _logger;

    /// <summary>Creates the table with the ports of <c>Paperclip:Lobbies:PortRange</c>.</summary>
    public InMemoryLobbyTable(IOptions<PaperclipOptions> options, TimeProvider time, ILogger<InMemoryLobbyTable> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var lobbies = options.Value.Lobbies;
        Time = time;
        _logger = logger;
        PublicHost = lobbies.PublicHost;
        PruneAfter = lobbies.PruneAfter;
        ReservationLifetime = lobbies.ReservationLifetime;
        var range = PortRange.Parse(lobbies.PortRange);
        for (var port = range.First; port <= range.Last; port++)
        {
            FreePorts.Enqueue(port);
        }
    }

    internal Lock Lock { get; } = new();

    internal SortedDictionary<long, Lobby> Lobbies { get; } = [];

    internal Queue<int> FreePorts { get; } = new();

    internal TimeProvider Time { get; }

    internal string PublicHost { get; }

    internal TimeSpan PruneAfter { get; }

    internal TimeSpan ReservationLifetime { get; }

    internal long NextId { get; set; }

    /// <inheritdoc />
    public bool MayJoin(long lobbyId, long accountId)
    {
        lock (Lock)
        {
            if (!Lobbies.TryGetValue(lobbyId, out var lobby))
            {
                return false;
            }

            var now = Time.GetUtcNow();
            lobby.ExpireReservations(now);
            return lobby.Members.Contains(accountId) || lobby.Reservations.ContainsKey(accountId)
                || lobby.Members.Count + lobby.Reservations.Count < lobby.Game.MaxPlayers;
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> MemberJoinedAsync(long lobbyId, long accountId, CancellationToken cancellationToken = default)
    {
        lock (Lock)
        {
            if (!Lobbies.TryGetValue(lobbyId, out var lobby))
            {
                return ValueTask.FromResult(false);
            }

            if (lobby.Members.Contains(accountId))
            {
                return ValueTask.FromResult(true);
            }

            lobby.ExpireReservations(Time.GetUtcNow());
            var reserved = lobby.Reservations.Remove(accountId);
            if (!reserved && lobby.Members.Count + lobby.Reservations.Count >= lobby.Game.MaxPlayers)
            {
                return ValueTask.FromResult(false);
            }

            lobby.Members.Add(accountId);
            LogMemberJoined(_logger, accountId, lobbyId);
            return ValueTask.FromResult(true);
        }
    }

    /// <inheritdoc />
    public ValueTask MemberLeftAsync(long lobbyId, long accountId, CancellationToken cancellationToken = default)
    {
        lock (Lock)
        {
            if (Lobbies.TryGetValue(lobbyId, out var lobby) && lobby.Members.Remove(accountId))
            {
                if (lobby.Members.Count == 0)
                {
                    lobby.EmptySince = Time.GetUtcNow();
                }

                LogMemberLeft(_logger, accountId, lobbyId);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask ReportStateAsync(long lobbyId, LobbyState state, CancellationToken cancellationToken = default)
    {
        lock (Lock)
        {
            if (Lobbies.TryGetValue(lobbyId, out var lobby))
            {
                lobby.Listening = state is not LobbyState.Scheduled and not LobbyState.Shutdown;
            }
        }

        return ValueTask.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Account {AccountId} joined lobby {LobbyId}")]
    private static partial void LogMemberJoined(ILogger logger, long accountId, long lobbyId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Account {AccountId} left lobby {LobbyId}")]
    private static partial void LogMemberLeft(ILogger logger, long accountId, long lobbyId);

    internal sealed class Lobby(long id, GameDescriptor game, LobbyAddress address, DateTimeOffset createdAt)
    {
        public long Id { get; } = id;

        public GameDescriptor Game { get; } = game;

        public LobbyAddress Address { get; } = address;

        public DateTimeOffset CreatedAt { get; } = createdAt;

        public DateTimeOffset EmptySince { get; set; } = createdAt;

        /// <summary>False until the game server started (Scheduled).</summary>
        public bool Listening { get; set; }

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
            var state = !Listening ? LobbyState.Scheduled : Members.Count == 0 ? LobbyState.Ready : LobbyState.Allocated;
            return new LobbySnapshot(Id, Game, Address, Members.ToArray(), Reservations.Keys.ToArray(), CreatedAt, state);
        }
    }
}
