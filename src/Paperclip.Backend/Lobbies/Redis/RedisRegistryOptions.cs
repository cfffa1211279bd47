namespace Paperclip.Backend.Lobbies.Redis;

/// <summary>The Redis lobby registry's settings (<c>Paperclip:Redis</c>), used when the registry is in Redis.</summary>
public sealed class RedisRegistryOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Paperclip:Redis";

    /// <summary>A StackExchange.Redis configuration string (<c>127.0.0.1:6379</c>, <c>/run/redis.sock</c>); required.</summary>
    public string Configuration { get; set; } = "";

    /// <summary>The prefix of every key; it is the keys' hash tag, so every script touches one slot. Default <c>paperclip</c>.</summary>
    public string KeyPrefix { get; set; } = "paperclip";

    /// <summary>A game host that has not heartbeaten for this many seconds is removed with its lobbies. Default 15.</summary>
    public int HostTimeoutSeconds { get; set; } = 15;

    /// <summary>How often (seconds) a game host heartbeats; below <see cref="HostTimeoutSeconds"/>. Default 5.</summary>
    public int HeartbeatSeconds { get; set; } = 5;

    /// <summary>How long (milliseconds) one Redis call may take before the registry answers unavailable. Default 2000.</summary>
    public int TimeoutMilliseconds { get; set; } = 2000;

    /// <summary><see cref="HostTimeoutSeconds"/>.</summary>
    public TimeSpan HostTimeout => TimeSpan.FromSeconds(HostTimeoutSeconds);

    /// <summary><see cref="HeartbeatSeconds"/>.</summary>
    public TimeSpan HeartbeatInterval => TimeSpan.FromSeconds(HeartbeatSeconds);

    /// <summary>The key prefix with its hash tag: <c>{paperclip}</c>.</summary>
    public string TaggedPrefix => "{" + KeyPrefix + "}";

    /// <summary>The problems with these settings, each naming its key; empty when valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Configuration))
            problems.Add($"{SectionName}:Configuration must be set (a Redis address such as 127.0.0.1:6379).");
        if (string.IsNullOrWhiteSpace(KeyPrefix) || KeyPrefix.AsSpan().IndexOfAny("{}: ") >= 0)
            problems.Add($"{SectionName}:KeyPrefix must be a non-empty name without braces, colons or spaces.");
        if (HostTimeoutSeconds is < 2 or > 3600)
            problems.Add($"{SectionName}:HostTimeoutSeconds must be 2 to 3600 seconds, not {HostTimeoutSeconds}.");
        if (HeartbeatSeconds < 1 || HeartbeatSeconds >= HostTimeoutSeconds)
            problems.Add($"{SectionName}:HeartbeatSeconds must be at least 1 and below HostTimeoutSeconds ({HostTimeoutSeconds}), not {HeartbeatSeconds}.");
        if (TimeoutMilliseconds is < 10 or > 60_000)
            problems.Add($"{SectionName}:TimeoutMilliseconds must be 10 to 60000 milliseconds, not {TimeoutMilliseconds}.");
        return problems;
    }
}
