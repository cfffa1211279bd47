using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Paperclip.Backend.Lobbies.Redis;
using Paperclip.Backend.Security;
using Paperclip.Backend.Tests.Infrastructure;
using Paperclip.Contracts;
using Paperclip.GameHost;
using Paperclip.GameHost.Node;
using Paperclip.Games;
using Paperclip.Games.RockPaperScissors;

namespace Paperclip.Backend.Tests;

/// <summary>
/// A game-host node on a real Redis with real lobby servers (UDP on loopback) and a fake clock:
/// start commands, heartbeats driven by the clock, fencing after a pause, deregistering at stop.
/// </summary>
public sealed class GameHostNodeTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly GameDescriptor Rps = RockPaperScissorsGame.Descriptor;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly string _prefix = "n" + Guid.NewGuid().ToString("N");

    private ServiceProvider Services(string hostId, string ports)
    {
        var data = Directory.CreateTempSubdirectory("paperclip-node-").FullName;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Paperclip:Redis:Configuration"] = redis.Configuration,
            ["Paperclip:Redis:KeyPrefix"] = _prefix,
            ["Paperclip:Redis:HostTimeoutSeconds"] = "10",
            ["Paperclip:Redis:HeartbeatSeconds"] = "2",
            ["Paperclip:GameHost:HostId"] = hostId,
            ["Paperclip:GameHost:PortRange"] = ports,
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddMetrics();
        services.AddSingleton<TimeProvider>(_time);
        services.AddSingleton(Options.Create(new PaperclipOptions { DataDirectory = data }));
        services.AddSingleton<SecretStore>();
        services.AddSingleton<ServerKeyService>();
        services.AddSingleton<IHostCertificateIssuer, ServerKeyHostCertificateIssuer>();
        services.AddSingleton<Paperclip.GameHost.HostCertificate>();
        services.AddSingleton<IAccountKeyDirectory, NoAccounts>();
        services.AddSingleton<IGame, RockPaperScissorsGame>();
        services.AddSingleton<AccountCertificateValidator>();
        services.AddSingleton<LobbyGameServerHost>();
        services.AddGameHostNode(configuration);
        return services.BuildServiceProvider();
    }

    private static RedisLobbyRegistry ApiNode(IServiceProvider services) =>
        new(services.GetRequiredService<RedisLobbyStore>(), Options.Create(new PaperclipOptions()));

    [Fact]
    public async Task A_matchmade_lobby_is_started_by_its_host_which_reports_it_ready()
    {
        await using var services = Services("node-a", FreeUdpRange());
        var node = services.GetRequiredService<GameHostNode>();
        await node.StartAsync(CancellationToken.None);
        await WaitAsync(() => node.Registrations == 1);
        var registry = ApiNode(services);
        var lobby = (await registry.MatchmakeAsync(Rps, 1)).Lobby;
        var host = services.GetRequiredService<LobbyGameServerHost>();
        await WaitAsync(() => host.IsRunningLobby(lobby.LobbyId));
        await WaitAsync(async () => (await registry.GetLobbyAsync(lobby.LobbyId))?.State == LobbyState.Ready);

        await registry.RemoveAsync(lobby.LobbyId);
        await WaitAsync(() => !host.IsRunningLobby(lobby.LobbyId));
        await node.StopAsync(CancellationToken.None);
        Assert.DoesNotContain(await registry.ListAsync(), l => l.LobbyId == lobby.LobbyId);
    }

    [Fact]
    public async Task Heartbeats_follow_the_clock_and_a_paused_host_is_fenced_stops_its_lobbies_and_registers_again()
    {
        await using var services = Services("node-b", FreeUdpRange());
        var node = services.GetRequiredService<GameHostNode>();
        var client = services.GetRequiredService<RedisGameHostClient>();
        var host = services.GetRequiredService<LobbyGameServerHost>();
        await node.StartAsync(CancellationToken.None);
        await WaitAsync(() => node.Registrations == 1);
        var firstEpoch = client.Epoch;

        _time.Advance(TimeSpan.FromSeconds(2));
        await WaitAsync(() => node.Heartbeats == 1);
        Assert.Equal(1, node.Heartbeats);

        var registry = ApiNode(services);
        var lobby = (await registry.MatchmakeAsync(Rps, 1)).Lobby;
        await WaitAsync(() => host.IsRunningLobby(lobby.LobbyId));

        // The clock jumps past the host's timeout (a pause): its lobby is gone for the API nodes, and
        // its next heartbeat is refused: it stops the lobby and comes back with a new epoch.
        _time.Advance(TimeSpan.FromSeconds(11));
        Assert.Null(await registry.GetLobbyAsync(lobby.LobbyId));
        await WaitAsync(() => node.Registrations == 2);
        await WaitAsync(() => !host.IsRunningLobby(lobby.LobbyId));
        Assert.True(client.Epoch > firstEpoch);
        await node.StopAsync(CancellationToken.None);
    }

    private static string FreeUdpRange()
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        var port = ((System.Net.IPEndPoint)socket.LocalEndPoint!).Port;
        return $"{port}-{port}";
    }

    private static Task WaitAsync(Func<bool> condition) => WaitAsync(() => Task.FromResult(condition()));

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (!await condition())
            await Task.Delay(10, timeout.Token);
    }

    private sealed class NoAccounts : IAccountKeyDirectory
    {
        public ValueTask<AccountPublicKey?> FindAsync(long accountId, CancellationToken cancellationToken = default) => ValueTask.FromResult<AccountPublicKey?>(null);
    }
}
