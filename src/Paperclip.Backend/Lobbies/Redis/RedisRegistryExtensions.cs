using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Paperclip.Backend.Operations;
using StackExchange.Redis;

namespace Paperclip.Backend.Lobbies.Redis;

/// <summary>Selects the Redis lobby registry.</summary>
public static class RedisRegistryExtensions
{
    /// <summary>
    /// The Redis connection and store of <c>Paperclip:Redis</c> (validated at start, each problem
    /// naming its key), and the <c>redis</c> readiness check. Used by API nodes and game hosts.
    /// </summary>
    public static IServiceCollection AddRedisLobbyStore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<RedisRegistryOptions>().Bind(configuration.GetSection(RedisRegistryOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisRegistryOptions>, RedisRegistryOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IConnectionMultiplexer>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RedisRegistryOptions>>().Value;
            var redis = ConfigurationOptions.Parse(options.Configuration);
            // Start (and answer 503) while Redis is down; reconnect by itself.
            redis.AbortOnConnectFail = false;
            redis.SyncTimeout = redis.AsyncTimeout = options.TimeoutMilliseconds;
            redis.ConnectTimeout = Math.Max(redis.ConnectTimeout, options.TimeoutMilliseconds);
            return ConnectionMultiplexer.Connect(redis);
        });
        services.TryAddSingleton<RedisLobbyStore>();
        services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", tags: [OperationsExtensions.ReadyTag]);
        return services;
    }

    /// <summary>Replaces the in-memory registry with the Redis one (an API node): lobbies run on game hosts.</summary>
    public static IServiceCollection AddRedisLobbyRegistry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddRedisLobbyStore(configuration);
        services.Replace(ServiceDescriptor.Singleton<ILobbyRegistry, RedisLobbyRegistry>());
        return services;
    }

    private sealed class RedisRegistryOptionsValidator : IValidateOptions<RedisRegistryOptions>
    {
        public ValidateOptionsResult Validate(string? name, RedisRegistryOptions options) =>
            options.Problems() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
    }
}

/// <summary>Ready when Redis answers a PING.</summary>
public sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await redis.GetDatabase().PingAsync().ConfigureAwait(false);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("Redis does not answer.", e);
        }
    }
}
