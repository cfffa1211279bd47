using System.Globalization;
using Microsoft.Extensions.Options;
using Paperclip.Contracts;
using StackExchange.Redis;
using Paperclip.Games;

namespace Paperclip.Backend.Lobbies.Redis;

/// <summary>
/// Runs the registry's scripts on one Redis connection: the clock, the key prefix and the
/// translation of Redis's failures (unreachable, timed out, loading) into
/// <see cref="LobbyRegistryUnavailableException"/>. Shared by API nodes and game hosts.
/// </summary>
public sealed class RedisLobbyStore
{
    private readonly IConnectionMultiplexer _redis;
    private readonly RedisKey[] _keys;

    /// <summary>Creates the store on <paramref name="redis"/>.</summary>
    public RedisLobbyStore(IConnectionMultiplexer redis, IOptions<RedisRegistryOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _redis = redis;
        Options = options.Value;
        Time = time;
        _keys = [Options.TaggedPrefix + ":lobbies"];
    }

    /// <summary>The settings.</summary>
    public RedisRegistryOptions Options { get; }

    /// <summary>The clock every script is given.</summary>
    public TimeProvider Time { get; }

    /// <summary>The connection (for subscriptions).</summary>
    public IConnectionMultiplexer Connection => _redis;

    /// <summary>The pub/sub channel a host's commands are sent on.</summary>
    public RedisChannel CommandChannel(string hostId) => RedisChannel.Literal($"{Options.TaggedPrefix}:host:{hostId}:commands");

    /// <summary>Runs <paramref name="script"/> with the prefix and now, then <paramref name="arguments"/>; returns its answer as an array (first: the status).</summary>
    /// <exception cref="LobbyRegistryUnavailableException">Redis did not answer.</exception>
    internal async Task<RedisResult[]> RunAsync(string script, params RedisValue[] arguments)
    {
        RedisValue[] values = [Options.TaggedPrefix, Time.GetUtcNow().ToUnixTimeMilliseconds(), .. arguments];
        try
        {
            var result = await _redis.GetDatabase().ScriptEvaluateAsync(script, _keys, values).ConfigureAwait(false);
            return (RedisResult[])result!;
        }
        catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException or RedisServerException or ObjectDisposedException)
        {
            throw new LobbyRegistryUnavailableException($"The lobby registry's Redis did not answer: {e.Message}", e);
        }
    }

    /// <summary>Reads a lobby snapshot as the scripts return it.</summary>
    internal static LobbySnapshot ReadSnapshot(RedisResult result)
    {
        var f = (RedisResult[])result!;
        var game = new GameDescriptor(Long(f[1]), (string)f[2]!, (int)Long(f[3]), (int)Long(f[4]));
        return new LobbySnapshot(
            Long(f[0]),
            game,
            new LobbyAddress((string)f[5]!, (int)Long(f[6])),
            Accounts(f[9]),
            Accounts(f[10]),
            DateTimeOffset.FromUnixTimeMilliseconds(Long(f[7])),
            Enum.Parse<LobbyState>((string)f[8]!));
    }

    internal static long Long(RedisResult value) => long.Parse((string)value!, CultureInfo.InvariantCulture);

    private static long[] Accounts(RedisResult value) => [.. ((RedisResult[])value!).Select(Long)];
}
