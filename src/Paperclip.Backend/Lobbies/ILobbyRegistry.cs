using Paperclip.Contracts;
using Paperclip.Games;

namespace Paperclip.Backend.Lobbies;

/// <summary>
/// The lobbies of this backend. Each lobby is one game server for one game on its own UDP port.
/// The REST endpoints read and allocate through this interface; the game servers report who
/// joined and left through <see cref="ILobbyMembership"/>.
/// </summary>
/// <remarks>
/// Capacity: a lobby's places are its joined members plus the live reservations of accounts
/// that were handed the lobby by <see cref="CreateAsync"/> or <see cref="MatchmakeAsync"/> and
/// have not joined yet. Members plus reservations never exceed the game's max players, however
/// many callers run at once. Implementations are thread-safe.
/// </remarks>
public interface ILobbyRegistry
{
    /// <summary>The lobby, or null when there is none with that id.</summary>
    /// <exception cref="LobbyRegistryUnavailableException">The registry's store cannot be reached or lost its state.</exception>
    ValueTask<LobbySnapshot?> GetLobbyAsync(long lobbyId, CancellationToken cancellationToken = default);

    /// <summary>All lobbies, by id.</summary>
    ValueTask<IReadOnlyList<LobbySnapshot>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>The lobby of that game with space, preferring the fullest; null when none has space. Reserves nothing.</summary>
    ValueTask<LobbySnapshot?> FindWithSpaceAsync(long gameId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates a lobby for <paramref name="game"/> on a free port, starts its game server and
    /// reserves a place in it for <paramref name="accountId"/>.
    /// </summary>
    /// <exception cref="LobbyCapacityException">No free port, or the game server did not start.</exception>
    ValueTask<LobbySnapshot> CreateAsync(GameDescriptor game, long accountId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Find-or-create in one step: the lobby of that game where <paramref name="accountId"/>
    /// already is a member or holds a reservation; else a place reserved in the fullest lobby
    /// with space; else a new lobby (<see cref="LobbyAssignment.Created"/>).
    /// </summary>
    /// <exception cref="LobbyCapacityException">A new lobby was needed and none could be created.</exception>
    ValueTask<LobbyAssignment> MatchmakeAsync(GameDescriptor game, long accountId, CancellationToken cancellationToken = default);

    /// <summary>Removes a lobby now (an operator closed it): its game server stops and tells its players SERVER_DISCONNECT, its port is freed.</summary>
    /// <returns>The removed lobby, or null when there is none with that id.</returns>
    ValueTask<LobbySnapshot?> RemoveAsync(long lobbyId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes the lobbies that have had no members for the prune time (and, where hosts
    /// heartbeat, the hosts that stopped with their lobbies), stops their game servers and frees their ports.
    /// </summary>
    /// <returns>The removed lobbies.</returns>
    ValueTask<IReadOnlyList<LobbySnapshot>> PruneAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// What a game server reports to the registry: the narrow view a lobby host has of it. The
/// host depends on this, never on <see cref="ILobbyRegistry"/>.
/// </summary>
public interface ILobbyMembership
{
    /// <summary>
    /// Before the handshake (synchronously, on the game server's receive path): false when the
    /// account surely has no place, so it is refused before a session is made; true when there may
    /// be one or this process cannot tell without a round trip — <see cref="MemberJoinedAsync"/> decides.
    /// </summary>
    bool MayJoin(long lobbyId, long accountId);

    /// <summary>
    /// An account completed its handshake. Returns false, and adds nothing, when the lobby does
    /// not exist (or is no longer this host's) or has no place for the account (no reservation
    /// and no free place): the game server then refuses the client (CONNECTION / NO_SPACE).
    /// </summary>
    ValueTask<bool> MemberJoinedAsync(long lobbyId, long accountId, CancellationToken cancellationToken = default);

    /// <summary>An account disconnected or timed out.</summary>
    ValueTask MemberLeftAsync(long lobbyId, long accountId, CancellationToken cancellationToken = default);

    /// <summary>The lobby's game server changed state (Ready when listening, Allocated when a match runs).</summary>
    ValueTask ReportStateAsync(long lobbyId, LobbyState state, CancellationToken cancellationToken = default);
}

/// <summary>
/// Runs the game server of a lobby. The in-memory registry calls it when a lobby is created and
/// when it is pruned; the default <see cref="NullLobbyServerHost"/> runs nothing.
/// </summary>
public interface ILobbyServerHost
{
    /// <summary>
    /// Starts the game server of <paramref name="lobby"/> on <see cref="LobbyAddress.Port"/>. Throws
    /// <see cref="LobbyPortUnavailableException"/> when another program holds the port (the registry
    /// then tries another), anything else to refuse (the API answers 503).
    /// </summary>
    ValueTask StartAsync(LobbySnapshot lobby, CancellationToken cancellationToken);

    /// <summary>Stops the game server of a removed lobby (its clients are sent SERVER_DISCONNECT).</summary>
    ValueTask StopAsync(long lobbyId, CancellationToken cancellationToken);
}

/// <summary>A lobby server host that runs nothing: lobbies exist only in the registry.</summary>
public sealed class NullLobbyServerHost : ILobbyServerHost
{
    /// <inheritdoc />
    public ValueTask StartAsync(LobbySnapshot lobby, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public ValueTask StopAsync(long lobbyId, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
