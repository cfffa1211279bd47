using System.Security.Cryptography;
using Paperclip.Contracts;
using StackExchange.Redis;

namespace Paperclip.Backend.Lobbies.Redis;

/// <summary>A game host's registration answer: the lobbies Redis says it runs, with their stored state.</summary>
/// <param name="Lobbies">Lobby id → Scheduled (to start) or Ready (running).</param>
public sealed record HostLobbies(IReadOnlyDictionary<long, LobbyState> Lobbies);

/// <summary>A host's report was refused: its epoch is no longer current (it was declared dead or registered again). It must stop its lobbies and register again.</summary>
public sealed class GameHostFencedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public GameHostFencedException()
        : this("This game host's registration is no longer current.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public GameHostFencedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public GameHostFencedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// One game host's side of the Redis registry: register (a new epoch), heartbeat, report members
/// and lobby states, drain, leave. Every report carries the epoch; the scripts refuse a stale one
/// (<see cref="GameHostFencedException"/>). It is the <see cref="ILobbyMembership"/> the host's
/// lobby servers report to.
/// </summary>
public sealed class RedisGameHostClient(RedisLobbyStore store, string hostId, string publicHost, PortRange ports) : ILobbyMembership
{
    private long _epoch;

    /// <summary>The host's name in Redis.</summary>
    public string HostId { get; } = hostId;

    /// <summary>The current epoch (0 before registering).</summary>
    public long Epoch => Interlocked.Read(ref _epoch);

    /// <summary>The store.</summary>
    public RedisLobbyStore Store => store;

    /// <summary>Registers the host with all its ports free and nothing of an earlier life kept; returns the new epoch.</summary>
    public async Task<long> RegisterAsync()
    {
        var answer = await store.RunAsync(RedisLobbyScripts.Register, HostId, publicHost, ports.First, ports.Last,
            (long)store.Options.HostTimeout.TotalMilliseconds, Convert.ToHexString(RandomNumberGenerator.GetBytes(8))).ConfigureAwait(false);
        var epoch = RedisLobbyStore.Long(answer[1]);
        Interlocked.Exchange(ref _epoch, epoch);
        return epoch;
    }

    /// <summary>Moves the host's deadline on; returns the lobbies Redis has for it.</summary>
    /// <exception cref="GameHostFencedException">The host was removed or registered again meanwhile.</exception>
    public async Task<HostLobbies> HeartbeatAsync()
    {
        var answer = Fenced(await store.RunAsync(RedisLobbyScripts.Heartbeat, HostId, Epoch, (long)store.Options.HostTimeout.TotalMilliseconds).ConfigureAwait(false));
        return new HostLobbies(answer.Skip(1).Select(r => (RedisResult[])r!).ToDictionary(r => RedisLobbyStore.Long(r[0]), r => Enum.Parse<LobbyState>((string)r[1]!)));
    }

    /// <summary>The lobby as Redis has it (to start its server), or null.</summary>
    public async Task<LobbySnapshot?> GetLobbyAsync(long lobbyId)
    {
        var answer = await store.RunAsync(RedisLobbyScripts.Get, lobbyId).ConfigureAwait(false);
        return answer.Length > 1 ? RedisLobbyStore.ReadSnapshot(answer[1]) : null;
    }

    /// <inheritdoc />
    /// <remarks>Redis cannot be asked synchronously on the receive path: the join report decides.</remarks>
    public bool MayJoin(long lobbyId, long accountId) => true;

    /// <inheritdoc />
    public async ValueTask<bool> MemberJoinedAsync(long lobbyId, long accountId, CancellationToken cancellationToken = default)
    {
        var answer = Fenced(await store.RunAsync(RedisLobbyScripts.Join, HostId, Epoch, lobbyId, accountId).ConfigureAwait(false));
        return (int)answer[1] == 1;
    }

    /// <inheritdoc />
    public async ValueTask MemberLeftAsync(long lobbyId, long accountId, CancellationToken cancellationToken = default) =>
        Fenced(await store.RunAsync(RedisLobbyScripts.Leave, HostId, Epoch, lobbyId, accountId).ConfigureAwait(false));

    /// <inheritdoc />
    public async ValueTask ReportStateAsync(long lobbyId, LobbyState state, CancellationToken cancellationToken = default) =>
        Fenced(await store.RunAsync(RedisLobbyScripts.State, HostId, Epoch, lobbyId, state.ToString()).ConfigureAwait(false));

    /// <summary>No new lobbies are placed here; the host's lobbies show Draining.</summary>
    public async Task DrainAsync() => Fenced(await store.RunAsync(RedisLobbyScripts.Drain, HostId, Epoch).ConfigureAwait(false));

    /// <summary>Leaves the registry with its lobbies (a clean stop).</summary>
    public async Task DeregisterAsync() => await store.RunAsync(RedisLobbyScripts.Deregister, HostId, Epoch).ConfigureAwait(false);

    private static RedisResult[] Fenced(RedisResult[] answer) =>
        (string)answer[0]! == "fenced" ? throw new GameHostFencedException() : answer;
}
