using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Paperclip.Backend.Lobbies;
using Paperclip.Backend.Lobbies.Redis;
using Paperclip.Backend.Security;
using Paperclip.Backend.Tests.Infrastructure;
using StackExchange.Redis;
using MsOptions = Microsoft.Extensions.Options.Options;

namespace Paperclip.Backend.Tests;

/// <summary>
/// The pruning timer of an API node on the Redis registry: a cluster no host has joined yet is
/// normal (nothing logged), a Redis that does not answer is one warning, not one per pass.
/// </summary>
public sealed class LobbyPruningServiceTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncDisposable
{
    private const int Passes = 5;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly List<IConnectionMultiplexer> _connections = [];

    [Fact]
    public async Task A_registry_no_host_has_joined_is_pruned_quietly()
    {
        var (service, logger) = Service(redis.Configuration);
        await RunPassesAsync(service);
        Assert.DoesNotContain(logger.Entries, e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task A_redis_that_does_not_answer_is_one_warning_not_one_per_pass()
    {
        var (service, logger) = Service("127.0.0.1:1,abortConnect=false,connectTimeout=200,asyncTimeout=200,syncTimeout=200", timeoutMilliseconds: 200);
        await RunPassesAsync(service);
        var warning = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("registry does not answer", warning.Message, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections)
            await connection.DisposeAsync();
    }

    private (LobbyPruningService Service, RecordingLogger<LobbyPruningService> Logger) Service(string configuration, int timeoutMilliseconds = 2000)
    {
        var connection = ConnectionMultiplexer.Connect(configuration);
        _connections.Add(connection);
        var redisOptions = new RedisRegistryOptions { Configuration = configuration, KeyPrefix = "p" + Guid.NewGuid().ToString("N"), TimeoutMilliseconds = timeoutMilliseconds };
        var options = MsOptions.Create(new PaperclipOptions { Lobbies = { PruneIntervalSeconds = 1 } });
        var registry = new RedisLobbyRegistry(new RedisLobbyStore(connection, MsOptions.Create(redisOptions), _time), options);
        var logger = new RecordingLogger<LobbyPruningService>();
        return (new LobbyPruningService(registry, new LoginThrottle(options, _time), new CredentialCache(options, _time), options, _time, logger), logger);
    }

    // The fake clock moves a second at a time until the service has made as many passes (its timer
    // is made on the service's own thread, so a first move may come before it exists).
    private async Task RunPassesAsync(LobbyPruningService service)
    {
        await service.StartAsync(CancellationToken.None);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (service.Passes < Passes)
            {
                var passes = service.Passes;
                _time.Advance(TimeSpan.FromSeconds(1));
                for (var wait = 0; wait < 50 && service.Passes == passes; wait++)
                    await Task.Delay(10, timeout.Token);
            }
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
            service.Dispose();
        }
    }
}
