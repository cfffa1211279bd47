using System.Globalization;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Paperclip.Games;

namespace Paperclip.Backend.Lobbies.Redis;

/// <summary>
/// The lobby registry in Redis, shared by every API node: each operation is one Lua script
/// (<see cref="RedisLobbyScripts"/>), so find, create and matchmake are atomic across nodes with
/// the in-memory registry's rules. Lobbies are placed on registered game hosts
/// (<see cref="RedisGameHostClient"/>), which start them on a pub/sub command.
/// </summary>
public sealed class RedisLobbyRegistry(RedisLobbyStore store, IOptions<PaperclipOptions> options) : ILobbyRegistry
{
    private readonly LobbyOptions _lobbies = options.Value.Lobbies;

    /// <inheritdoc />
    public async ValueTask<LobbySnapshot?> GetLobbyAsync(long lobbyId, CancellationToken cancellationToken = default)
    {
        var answer = await RunAsync(RedisLobbyScripts.Get, lobbyId).ConfigureAwait(false);
        return answer.Length > 1 ? RedisLobbyStore.ReadSnapshot(answer[1]) : null;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<LobbySnapshot>> ListAsync(CancellationToken cancellationToken = default)
    {
        var answer = await RunAsync(RedisLobbyScripts.List).ConfigureAwait(false);
        return [.. answer.Skip(1).Select(RedisLobbyStore.ReadSnapshot)];
    }

    /// <inheritdoc />
    public async ValueTask<LobbySnapshot?> FindWithSpaceAsync(long gameId, CancellationToken cancellationToken = default)
    {
        var answer = await RunAsync(RedisLobbyScripts.Find, gameId).ConfigureAwait(false);
        return answer.Length > 1 ? RedisLobbyStore.ReadSnapshot(answer[1]) : null;
    }

    /// <inheritdoc />
    public async ValueTask<LobbySnapshot> CreateAsync(GameDescriptor game, long accountId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(game);
        var answer = await RunAsync(RedisLobbyScripts.Create, GameArguments(game, accountId)).ConfigureAwait(false);
        return Placed(answer).Lobby;
    }

    /// <inheritdoc />
    public async ValueTask<LobbyAssignment> MatchmakeAsync(GameDescriptor game, long accountId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(game);
        var answer = await RunAsync(RedisLobbyScripts.Matchmake, GameArguments(game, accountId)).ConfigureAwait(false);
        return Placed(answer);
    }

    /// <inheritdoc />
    public async ValueTask<LobbySnapshot?> RemoveAsync(long lobbyId, CancellationToken cancellationToken = default)
    {
        var answer = await RunAsync(RedisLobbyScripts.Remove, lobbyId).ConfigureAwait(false);
        return answer.Length > 1 ? RedisLobbyStore.ReadSnapshot(answer[1]) : null;
    }

    /// <inheritdoc />
    /// <remarks>A registry with no state (no host has registered since Redis started: an empty cluster) has nothing to prune.</remarks>
    public async ValueTask<IReadOnlyList<LobbySnapshot>> PruneAsync(CancellationToken cancellationToken = default)
    {
        var answer = await store.RunAsync(RedisLobbyScripts.Prune, (long)_lobbies.PruneAfter.TotalMilliseconds).ConfigureAwait(false);
        return [.. answer.Skip(1).Select(RedisLobbyStore.ReadSnapshot)];
    }

    private RedisValue[] GameArguments(GameDescriptor game, long accountId) =>
        [game.Id, game.Name, game.MinPlayers, game.MaxPlayers, accountId, (long)_lobbies.ReservationLifetime.TotalMilliseconds];

    private static LobbyAssignment Placed(RedisResult[] answer) => (string)answer[0]! switch
    {
        "created" => new LobbyAssignment(RedisLobbyStore.ReadSnapshot(answer[1]), Created: true),
        "joined" => new LobbyAssignment(RedisLobbyStore.ReadSnapshot(answer[1]), Created: false),
        _ => throw new LobbyCapacityException("No game host has a free port for a new lobby."),
    };

    // A Redis without the registry's generation key lost its state (or no host registered yet):
    // the lobbies it would list are not the lobbies that run.
    private async Task<RedisResult[]> RunAsync(string script, params RedisValue[] arguments)
    {
        var answer = await store.RunAsync(script, arguments).ConfigureAwait(false);
        return (string)answer[0]! == "lost"
            ? throw new LobbyRegistryUnavailableException("The lobby registry has no state: no game host has registered with this Redis since it started.")
            : answer;
    }
}

/// <summary>A game host's commands from the registry.</summary>
/// <param name="Start">True: start the lobby's game server; false: stop it.</param>
/// <param name="LobbyId">The lobby.</param>
public readonly record struct GameHostCommand(bool Start, long LobbyId)
{
    /// <summary>Reads <c>start 12</c> / <c>stop 12</c>; null for anything else.</summary>
    public static GameHostCommand? Parse(string? message) =>
        message?.Split(' ') is [var verb, var id] && long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var lobbyId) && verb is "start" or "stop"
            ? new GameHostCommand(verb == "start", lobbyId)
            : null;
}
