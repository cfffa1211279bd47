using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Paperclip.Backend.Lobbies;
using Paperclip.Backend.Lobbies.Redis;
using Paperclip.Backend.Tests.Infrastructure;
using Paperclip.Games;
using Paperclip.Games.RockPaperScissors;
using StackExchange.Redis;
using LobbyState = Paperclip.Contracts.LobbyState;

namespace Paperclip.Backend.Tests;

/// <summary>The registry's rules, run against each registry (in memory, Redis) with a fake clock.</summary>
public abstract class LobbyRegistryContract
{
    protected static readonly GameDescriptor Rps = RockPaperScissorsGame.Descriptor;

    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    /// <summary>A registry over <paramref name="ports"/> at public host games.example, and the membership its game servers report to.</summary>
    protected abstract Task<(ILobbyRegistry Registry, ILobbyMembership Membership)> CreateAsync(string ports = "40000-40009", int pruneSeconds = 60, int reservationSeconds = 30);

    protected static PaperclipOptions Options(string ports, int pruneSeconds, int reservationSeconds) =>
        new() { Lobbies = { PortRange = ports, PruneSeconds = pruneSeconds, ReservationSeconds = reservationSeconds, PublicHost = "games.example" } };

    [Fact]
    public async Task Lobbies_get_ports_from_the_range_and_the_public_host()
    {
        var (registry, _) = await CreateAsync("40000-40001");
        var a = await registry.CreateAsync(Rps, 1);
        var b = await registry.CreateAsync(Rps, 2);
        Assert.Equal(new LobbyAddress("games.example", 40000), a.Address);
        Assert.Equal(new LobbyAddress("games.example", 40001), b.Address);
        await Assert.ThrowsAsync<LobbyCapacityException>(async () => await registry.CreateAsync(Rps, 3));
    }

    [Fact]
    public async Task Empty_lobbies_are_pruned_after_the_prune_time_from_creation_and_their_ports_freed()
    {
        var (registry, _) = await CreateAsync("40000-40000");
        var lobby = await registry.CreateAsync(Rps, 1);
        Time.Advance(TimeSpan.FromSeconds(59));
        Assert.Empty(await registry.PruneAsync());
        Time.Advance(TimeSpan.FromSeconds(1));
        var removed = await registry.PruneAsync();
        Assert.Equal(lobby.LobbyId, Assert.Single(removed).LobbyId);
        Assert.Null(await registry.GetLobbyAsync(lobby.LobbyId));
        var again = await registry.CreateAsync(Rps, 2);
        Assert.Equal(40000, again.Address.Port);
    }

    [Fact]
    public async Task Lobbies_with_members_are_kept_and_pruned_after_the_last_leaves()
    {
        var (registry, membership) = await CreateAsync();
        var lobby = await registry.CreateAsync(Rps, 1);
        Assert.True(await membership.MemberJoinedAsync(lobby.LobbyId, 1));
        Assert.Equal(LobbyState.Allocated, (await registry.GetLobbyAsync(lobby.LobbyId))!.State);
        Time.Advance(TimeSpan.FromMinutes(10));
        Assert.Empty(await registry.PruneAsync());
        await membership.MemberLeftAsync(lobby.LobbyId, 1);
        Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Empty(await registry.PruneAsync());
        Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Single(await registry.PruneAsync());
    }

    [Fact]
    public async Task Reservations_expire_and_free_their_place()
    {
        var (registry, membership) = await CreateAsync();
        var a = await registry.MatchmakeAsync(Rps, 1);
        var b = await registry.MatchmakeAsync(Rps, 2);
        Assert.True(a.Created);
        Assert.Equal(a.Lobby.LobbyId, b.Lobby.LobbyId);
        Assert.Null(await registry.FindWithSpaceAsync(Rps.Id));
        Assert.False(await membership.MemberJoinedAsync(a.Lobby.LobbyId, 3));

        Time.Advance(TimeSpan.FromSeconds(31));
        Assert.NotNull(await registry.FindWithSpaceAsync(Rps.Id));
        var c = await registry.MatchmakeAsync(Rps, 3);
        Assert.Equal(a.Lobby.LobbyId, c.Lobby.LobbyId);
        Assert.False(c.Created);
    }

    [Fact]
    public async Task Matchmaking_prefers_the_fullest_lobby_and_returns_an_accounts_own_place()
    {
        var (registry, membership) = await CreateAsync();
        var quad = new GameDescriptor(7, "Quad", 2, 4);
        var first = await registry.CreateAsync(quad, 1);
        var second = await registry.CreateAsync(quad, 2);
        Assert.True(await membership.MemberJoinedAsync(second.LobbyId, 3));
        Assert.Equal(second.LobbyId, (await registry.FindWithSpaceAsync(quad.Id))!.LobbyId);
        Assert.Equal(second.LobbyId, (await registry.MatchmakeAsync(quad, 4)).Lobby.LobbyId);
        Assert.Equal(first.LobbyId, (await registry.MatchmakeAsync(quad, 1)).Lobby.LobbyId);
        Assert.Equal(second.LobbyId, (await registry.MatchmakeAsync(quad, 3)).Lobby.LobbyId);
    }

    [Fact]
    public async Task Joining_uses_the_reservation_and_refuses_when_full()
    {
        var (registry, membership) = await CreateAsync();
        var lobby = (await registry.MatchmakeAsync(Rps, 1)).Lobby;
        Assert.True(await membership.MemberJoinedAsync(lobby.LobbyId, 2));
        Assert.False(await membership.MemberJoinedAsync(lobby.LobbyId, 3));
        Assert.True(await membership.MemberJoinedAsync(lobby.LobbyId, 1));
        var snapshot = (await registry.GetLobbyAsync(lobby.LobbyId))!;
        Assert.True(snapshot.IsFull);
        Assert.Equal([2L, 1L], snapshot.Members);
        Assert.Empty(snapshot.Reservations);
        Assert.True(await membership.MemberJoinedAsync(lobby.LobbyId, 1));
        Assert.False(await membership.MemberJoinedAsync(12345, 1));
    }

    [Fact]
    public async Task Removed_lobbies_leave_the_registry_and_free_their_port()
    {
        var (registry, _) = await CreateAsync("40000-40000");
        var lobby = await registry.CreateAsync(Rps, 1);
        Assert.Equal(lobby.LobbyId, (await registry.RemoveAsync(lobby.LobbyId))!.LobbyId);
        Assert.Null(await registry.RemoveAsync(lobby.LobbyId));
        Assert.Empty(await registry.ListAsync());
        Assert.Equal(40000, (await registry.CreateAsync(Rps, 2)).Address.Port);
    }

    [Fact]
    public async Task Concurrent_matchmaking_never_overfills()
    {
        var (registry, _) = await CreateAsync("40000-40999");
        var game = new GameDescriptor(7, "Quad", 2, 4);
        var results = await Task.WhenAll(Enumerable.Range(1, 1000).Select(id => Task.Run(async () => await registry.MatchmakeAsync(game, id))));
        Assert.Equal(250, results.Select(r => r.Lobby.LobbyId).Distinct().Count());
        Assert.Equal(250, results.Count(r => r.Created));
        var lobbies = await registry.ListAsync();
        Assert.All(lobbies, l => Assert.Equal(4, l.Reservations.Count));
        Assert.Equal(1000, lobbies.SelectMany(l => l.Reservations).Distinct().Count());
    }
}

/// <summary>The in-memory registry (the embedded default).</summary>
public sealed class InMemoryLobbyRegistryTests : LobbyRegistryContract
{
    private (InMemoryLobbyRegistry Registry, InMemoryLobbyTable Table) Create(string ports, ILobbyServerHost host, int pruneSeconds = 60, int reservationSeconds = 30)
    {
        var table = new InMemoryLobbyTable(Microsoft.Extensions.Options.Options.Create(Options(ports, pruneSeconds, reservationSeconds)), Time, NullLogger<InMemoryLobbyTable>.Instance);
        return (new InMemoryLobbyRegistry(table, host, NullLogger<InMemoryLobbyRegistry>.Instance), table);
    }

    protected override Task<(ILobbyRegistry Registry, ILobbyMembership Membership)> CreateAsync(string ports = "40000-40009", int pruneSeconds = 60, int reservationSeconds = 30)
    {
        var (registry, table) = Create(ports, new NullLobbyServerHost(), pruneSeconds, reservationSeconds);
        return Task.FromResult<(ILobbyRegistry, ILobbyMembership)>((registry, table));
    }

    [Fact]
    public async Task Pruned_lobbies_stop_their_game_server()
    {
        var host = new RecordingHost();
        var (registry, _) = Create("40000-40000", host);
        var lobby = await registry.CreateAsync(Rps, 1);
        Time.Advance(TimeSpan.FromSeconds(60));
        Assert.Single(await registry.PruneAsync());
        Assert.Equal([lobby.LobbyId], host.Stopped);
    }

    [Fact]
    public async Task A_host_that_fails_to_start_frees_the_port_and_reports_capacity()
    {
        var host = new RecordingHost { FailStarts = true };
        var (registry, _) = Create("40000-40000", host);
        await Assert.ThrowsAsync<LobbyCapacityException>(async () => await registry.MatchmakeAsync(Rps, 1));
        Assert.Empty(await registry.ListAsync());
        host.FailStarts = false;
        Assert.Equal(40000, (await registry.CreateAsync(Rps, 1)).Address.Port);
    }

    [Fact]
    public void Port_ranges_parse()
    {
        Assert.Equal(new PortRange(40000, 40999), PortRange.Parse("40000-40999"));
        Assert.Equal(new PortRange(5000, 5000), PortRange.Parse("5000"));
        Assert.Throws<FormatException>(() => PortRange.Parse("9-1"));
        Assert.Throws<FormatException>(() => PortRange.Parse("0-10"));
        Assert.Throws<FormatException>(() => PortRange.Parse("a-b"));
    }

    private sealed class RecordingHost : ILobbyServerHost
    {
        public bool FailStarts { get; set; }

        public List<long> Stopped { get; } = [];

        public ValueTask StartAsync(LobbySnapshot lobby, CancellationToken cancellationToken) =>
            FailStarts ? throw new InvalidOperationException("port in use") : ValueTask.CompletedTask;

        public ValueTask StopAsync(long lobbyId, CancellationToken cancellationToken)
        {
            Stopped.Add(lobbyId);
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>The Redis registry against a real redis-server of its own: the same rules, plus nodes, hosts, expiry and fencing.</summary>
public sealed class RedisLobbyRegistryTests(RedisServer redis) : LobbyRegistryContract, IClassFixture<RedisServer>, IAsyncDisposable
{
    private readonly List<IConnectionMultiplexer> _connections = [];
    private readonly string _prefix = "t" + Guid.NewGuid().ToString("N");

    private RedisLobbyStore Store(int hostTimeoutSeconds = 15)
    {
        var connection = ConnectionMultiplexer.Connect(redis.Configuration);
        _connections.Add(connection);
        var options = new RedisRegistryOptions { Configuration = redis.Configuration, KeyPrefix = _prefix, HostTimeoutSeconds = hostTimeoutSeconds, HeartbeatSeconds = 1 };
        return new RedisLobbyStore(connection, Microsoft.Extensions.Options.Options.Create(options), Time);
    }

    private RedisLobbyRegistry Node(int pruneSeconds = 60, int reservationSeconds = 30) =>
        new(Store(), Microsoft.Extensions.Options.Options.Create(Options("1-1", pruneSeconds, reservationSeconds)));

    private async Task<RedisGameHostClient> HostAsync(string id, string ports, int timeoutSeconds = 15)
    {
        var host = new RedisGameHostClient(Store(timeoutSeconds), id, "games.example", PortRange.Parse(ports));
        await host.RegisterAsync();
        return host;
    }

    protected override async Task<(ILobbyRegistry Registry, ILobbyMembership Membership)> CreateAsync(string ports = "40000-40009", int pruneSeconds = 60, int reservationSeconds = 30)
    {
        // The shared rules are about lobbies, not host liveness: a host that outlives the fake clock's jumps.
        var host = await HostAsync("host-a", ports, timeoutSeconds: 3600);
        return (Node(pruneSeconds, reservationSeconds), host);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections)
            await connection.DisposeAsync();
    }

    [Fact]
    public async Task Two_api_nodes_matchmaking_at_once_pack_lobbies_as_one_node_does()
    {
        await HostAsync("host-a", "40000-40999");
        var nodes = new[] { Node(), Node() };
        var game = new GameDescriptor(7, "Quad", 2, 4);
        var results = await Task.WhenAll(Enumerable.Range(1, 1000).Select(id => Task.Run(async () => await nodes[id % 2].MatchmakeAsync(game, id))));
        Assert.Equal(250, results.Select(r => r.Lobby.LobbyId).Distinct().Count());
        var lobbies = await nodes[0].ListAsync();
        Assert.Equal(250, lobbies.Count);
        Assert.All(lobbies, l => Assert.Equal(4, l.Reservations.Count));
        Assert.Equal(250, lobbies.Select(l => l.Address.Port).Distinct().Count());
        Assert.Equal(await nodes[0].ListAsync(), await nodes[1].ListAsync(), new SnapshotComparer());
    }

    [Fact]
    public async Task Members_a_host_reports_are_seen_from_both_nodes()
    {
        var host = await HostAsync("host-a", "40000-40009");
        var (one, two) = (Node(), Node());
        var lobby = (await one.MatchmakeAsync(Rps, 1)).Lobby;
        Assert.Equal(LobbyState.Scheduled, lobby.State);
        await host.ReportStateAsync(lobby.LobbyId, LobbyState.Ready);
        Assert.Equal(LobbyState.Ready, (await two.GetLobbyAsync(lobby.LobbyId))!.State);
        Assert.True(await host.MemberJoinedAsync(lobby.LobbyId, 1));
        Assert.Equal([1L], (await two.GetLobbyAsync(lobby.LobbyId))!.Members);
        Assert.Equal(LobbyState.Allocated, (await one.GetLobbyAsync(lobby.LobbyId))!.State);
    }

    [Fact]
    public async Task A_new_lobby_is_a_start_command_to_its_host_and_a_removed_one_a_stop()
    {
        var host = await HostAsync("host-a", "40000-40009");
        var commands = System.Threading.Channels.Channel.CreateUnbounded<GameHostCommand>();
        var subscriber = host.Store.Connection.GetSubscriber();
        await subscriber.SubscribeAsync(host.Store.CommandChannel("host-a"), (_, message) => commands.Writer.TryWrite(GameHostCommand.Parse(message)!.Value));
        var registry = Node();
        var lobby = await registry.CreateAsync(Rps, 1);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.Equal(new GameHostCommand(true, lobby.LobbyId), await commands.Reader.ReadAsync(timeout.Token));
        Assert.Equal(LobbyState.Scheduled, (await host.HeartbeatAsync()).Lobbies[lobby.LobbyId]);
        await registry.RemoveAsync(lobby.LobbyId);
        Assert.Equal(new GameHostCommand(false, lobby.LobbyId), await commands.Reader.ReadAsync(timeout.Token));
    }

    [Fact]
    public async Task A_host_that_stops_heartbeating_is_removed_with_its_lobbies_and_players_get_places_elsewhere()
    {
        var silent = await HostAsync("host-a", "40000-40000", timeoutSeconds: 10);
        var registry = Node();
        var lobby = (await registry.MatchmakeAsync(Rps, 1)).Lobby;
        Assert.True(await silent.MemberJoinedAsync(lobby.LobbyId, 1));
        var other = await HostAsync("host-b", "41000-41000", timeoutSeconds: 10);
        Time.Advance(TimeSpan.FromSeconds(9));
        await other.HeartbeatAsync();
        Assert.NotNull(await registry.GetLobbyAsync(lobby.LobbyId));
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(lobby.LobbyId, Assert.Single(await registry.PruneAsync()).LobbyId);
        var again = await registry.MatchmakeAsync(Rps, 1);
        Assert.True(again.Created);
        Assert.Equal(41000, again.Lobby.Address.Port);
    }

    [Fact]
    public async Task A_paused_host_that_comes_back_is_fenced_and_registers_afresh()
    {
        var host = await HostAsync("host-a", "40000-40001", timeoutSeconds: 10);
        var registry = Node();
        var lobby = (await registry.MatchmakeAsync(Rps, 1)).Lobby;
        var staleEpoch = host.Epoch;
        Time.Advance(TimeSpan.FromSeconds(11));
        await Assert.ThrowsAsync<GameHostFencedException>(() => host.HeartbeatAsync());
        await Assert.ThrowsAsync<GameHostFencedException>(async () => await host.MemberJoinedAsync(lobby.LobbyId, 1));
        Assert.Null(await registry.GetLobbyAsync(lobby.LobbyId));

        Assert.True(await host.RegisterAsync() > staleEpoch);
        Assert.Empty((await host.HeartbeatAsync()).Lobbies);
        // The old life's reports stay refused: a second client with the stale epoch is fenced.
        var stale = new RedisGameHostClient(host.Store, "host-a", "games.example", PortRange.Parse("40000-40001"));
        await Assert.ThrowsAsync<GameHostFencedException>(() => stale.HeartbeatAsync());
        Assert.Equal(40000, (await registry.CreateAsync(Rps, 2)).Address.Port);
    }

    [Fact]
    public async Task A_draining_host_gets_no_new_lobbies_and_its_lobbies_show_draining()
    {
        var draining = await HostAsync("host-a", "40000-40009");
        var registry = Node();
        var lobby = (await registry.MatchmakeAsync(Rps, 1)).Lobby;
        await draining.ReportStateAsync(lobby.LobbyId, LobbyState.Ready);
        await draining.DrainAsync();
        Assert.Equal(LobbyState.Draining, (await registry.GetLobbyAsync(lobby.LobbyId))!.State);
        Assert.Null(await registry.FindWithSpaceAsync(Rps.Id));
        await Assert.ThrowsAsync<LobbyCapacityException>(async () => await registry.MatchmakeAsync(Rps, 2));
    }

    [Fact]
    public async Task A_redis_that_lost_its_state_makes_the_registry_unavailable_until_a_host_registers()
    {
        var host = await HostAsync("host-a", "40000-40009");
        var registry = Node();
        await registry.MatchmakeAsync(Rps, 1);
        var server = _connections[0].GetServers()[0];
        await server.FlushAllDatabasesAsync();
        await Assert.ThrowsAsync<LobbyRegistryUnavailableException>(async () => await registry.ListAsync());
        await Assert.ThrowsAsync<LobbyRegistryUnavailableException>(async () => await registry.MatchmakeAsync(Rps, 1));
        await Assert.ThrowsAsync<GameHostFencedException>(() => host.HeartbeatAsync());
        await host.RegisterAsync();
        Assert.Empty(await registry.ListAsync());
        Assert.True((await registry.MatchmakeAsync(Rps, 1)).Created);
    }

    [Fact]
    public async Task An_unreachable_redis_is_unavailable_not_empty()
    {
        var options = new RedisRegistryOptions { Configuration = "127.0.0.1:1,abortConnect=false,connectTimeout=200", KeyPrefix = _prefix, TimeoutMilliseconds = 200 };
        var connection = await ConnectionMultiplexer.ConnectAsync(options.Configuration);
        _connections.Add(connection);
        var registry = new RedisLobbyRegistry(new RedisLobbyStore(connection, Microsoft.Extensions.Options.Options.Create(options), Time), Microsoft.Extensions.Options.Options.Create(new PaperclipOptions()));
        await Assert.ThrowsAsync<LobbyRegistryUnavailableException>(async () => await registry.ListAsync());
    }

    [Fact]
    public async Task With_thousands_of_lobbies_matchmaking_takes_the_fullest_with_space_and_the_index_stays_exact()
    {
        var quad = new GameDescriptor(7, "Quad", 2, 4);
        var big = await HostAsync("host-a", "30000-31999", timeoutSeconds: 3600);
        var registry = Node();
        var created = await InBatchesAsync(Enumerable.Range(1, 2000), async n => await registry.CreateAsync(quad, n));
        var ids = created.Select(l => l.LobbyId).Order().ToArray();
        // Lobby n holds its creator's reservation and n % 4 more members (so 1 to 4 places taken);
        // every fifth creator joins on its reservation.
        await InBatchesAsync(Enumerable.Range(0, ids.Length), async i =>
        {
            for (var m = 0; m < (i + 1) % 4; m++)
                Assert.True(await big.MemberJoinedAsync(ids[i], 100_000 + (i * 4) + m));
            if ((i + 1) % 5 == 0)
                Assert.True(await big.MemberJoinedAsync(ids[i], i + 1));
            return true;
        });
        var best = await AssertIndexExactAsync(registry, quad);
        Assert.Equal(ids[1], best); // the first lobby with 3 of 4 places taken
        Assert.Equal(best, (await registry.FindWithSpaceAsync(quad.Id))!.LobbyId);

        // A leave makes the fullest one less full: the next lobby with three places taken is the choice.
        var leaving = (await registry.GetLobbyAsync(best!.Value))!.Members[^1];
        await big.MemberLeftAsync(best.Value, leaving);
        Assert.Equal(ids[5], await AssertIndexExactAsync(registry, quad));

        // 100 new players at once fill the 100 fullest lobbies, one place each, whatever their order.
        var threes = (await registry.ListAsync()).Where(l => l.Members.Count + l.Reservations.Count == 3).Select(l => l.LobbyId).Order().Take(100).ToArray();
        var placed = await InBatchesAsync(Enumerable.Range(200_000, 100), async a => await registry.MatchmakeAsync(quad, a));
        Assert.All(placed, p => Assert.False(p.Created));
        Assert.Equal(threes, placed.Select(p => p.Lobby.LobbyId).Order());
        await AssertIndexExactAsync(registry, quad);

        // Every reservation expires: the places come back, and the index follows without a scan.
        Time.Advance(TimeSpan.FromSeconds(31));
        var afterExpiry = (await registry.FindWithSpaceAsync(quad.Id))!.LobbyId;
        Assert.Equal(afterExpiry, await AssertIndexExactAsync(registry, quad));
        Assert.Empty(await Redis().SortedSetRangeByRankAsync($"{{{_prefix}}}:expiring"));

        // A second host's lobbies are indexed while it lives and leave the index when it dies.
        var small = await HostAsync("host-b", "33000-33099", timeoutSeconds: 10);
        var doomed = await InBatchesAsync(Enumerable.Range(300_000, 100), async a => await registry.CreateAsync(quad, a));
        Assert.All(doomed, l => Assert.InRange(l.Address.Port, 33000, 33099));
        await AssertIndexExactAsync(registry, quad);
        Time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(doomed.Select(l => l.LobbyId).Order(), (await registry.PruneAsync()).Select(l => l.LobbyId).Order());
        await AssertIndexExactAsync(registry, quad);

        // Past the prune time, the lobbies no member is in leave with their index entries.
        var empty = (await registry.ListAsync()).Where(l => l.Members.Count == 0).Select(l => l.LobbyId).Order().ToArray();
        Assert.NotEmpty(empty);
        Time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(empty, (await registry.PruneAsync()).Select(l => l.LobbyId).Order());
        Assert.Equal(afterExpiry, await AssertIndexExactAsync(registry, quad));
        Assert.Equal(ids.Length - empty.Length, (await registry.ListAsync()).Count);
    }

    private IDatabase Redis() => _connections[0].GetDatabase();

    // The open index holds exactly the lobbies with space on a Ready host, scored by the places
    // taken; the expiry index the lobbies with reservations; the empty index those without members.
    // Returns the lobby the open index puts first (null when none has space).
    private async Task<long?> AssertIndexExactAsync(RedisLobbyRegistry registry, GameDescriptor game)
    {
        var lobbies = await registry.ListAsync();
        var tag = $"{{{_prefix}}}";
        var open = (await Redis().SortedSetRangeByRankWithScoresAsync($"{tag}:game:{game.Id}:open"))
            .Select(e => (Id: long.Parse((string)e.Element!, System.Globalization.CultureInfo.InvariantCulture), Taken: (int)-e.Score)).ToArray();
        var expected = lobbies.Where(l => l.Game.Id == game.Id && l.HasSpace && l.State != LobbyState.Draining)
            .Select(l => (Id: l.LobbyId, Taken: l.Members.Count + l.Reservations.Count))
            .OrderByDescending(e => e.Taken).ThenBy(e => e.Id).ToArray();
        Assert.Equal(expected, open);
        var expiring = (await Redis().SortedSetRangeByRankAsync($"{tag}:expiring")).Select(v => (long)v).Order();
        Assert.Equal(lobbies.Where(l => l.Reservations.Count > 0).Select(l => l.LobbyId).Order(), expiring);
        var emptyIndex = (await Redis().SortedSetRangeByRankAsync($"{tag}:empty")).Select(v => (long)v).Order();
        Assert.Equal(lobbies.Where(l => l.Members.Count == 0).Select(l => l.LobbyId).Order(), emptyIndex);
        return open.Length > 0 ? open[0].Id : null;
    }

    // Many calls, 32 at a time: concurrent enough to interleave scripts, not a flood of tasks.
    private static async Task<T[]> InBatchesAsync<T>(IEnumerable<int> items, Func<int, Task<T>> call)
    {
        var results = new List<T>();
        foreach (var batch in items.Chunk(32))
            results.AddRange(await Task.WhenAll(batch.Select(call)));
        return [.. results];
    }

    private sealed class SnapshotComparer : IEqualityComparer<IReadOnlyList<LobbySnapshot>>
    {
        public bool Equals(IReadOnlyList<LobbySnapshot>? x, IReadOnlyList<LobbySnapshot>? y) =>
            x!.Count == y!.Count && x.Zip(y).All(p => p.First.LobbyId == p.Second.LobbyId && p.First.Reservations.SequenceEqual(p.Second.Reservations));

        public int GetHashCode(IReadOnlyList<LobbySnapshot> obj) => obj.Count;
    }
}
