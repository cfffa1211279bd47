using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Paperclip.Backend.Tests.Infrastructure;
using static Paperclip.Backend.Tests.Infrastructure.Http;

namespace Paperclip.Backend.Tests;

/// <summary>
/// Faults of a real cluster (API node and game-host processes, redis-server, PostgreSQL on
/// loopback): a game host or an API node killed with SIGKILL, Redis restarted with and without
/// its append-only file, PostgreSQL stopped and started.
/// </summary>
[Collection(ClusterProcesses.Name)]
public sealed class ClusterFaultTests
{
    private const string Rps = "{\"game-id\":1}";

    [Fact]
    public async Task A_killed_game_hosts_lobbies_leave_the_registry_within_the_host_timeout_and_players_get_places_on_the_other_host()
    {
        await using var cluster = await LocalCluster.StartAsync(hostTimeout: TimeSpan.FromSeconds(3));
        var apis = new[] { await cluster.StartApiAsync("api1"), await cluster.StartApiAsync("api2") };
        var hosts = new[] { await cluster.StartHostAsync("host1", apis[0], 4), await cluster.StartHostAsync("host2", apis[1], 4) };
        var mario = await LocalCluster.RegisterAsync(apis[0], "mario");
        var luigi = await LocalCluster.RegisterAsync(apis[1], "luigi");

        using var placed = await mario.Http.PostAsync("/lobby/matchmake", Json(Rps));
        Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
        var lobby = await placed.JsonAsync();
        var lobbyId = lobby.GetProperty("lobby-id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var victim = Assert.Single(hosts, h => h.Holds(lobby));
        var survivor = Assert.Single(hosts, h => h != victim);
        var game = await cluster.JoinAsync(mario, lobby);
        await cluster.WaitUntilAsync(async () => (await luigi.Http.GetFromJsonAsync<JsonElement>("/lobby/members")).TryGetProperty(lobbyId, out var m) && m.GetArrayLength() == 1, "Mario a member");

        await victim.Node.KillAsync();
        var clock = Stopwatch.StartNew();
        await cluster.WaitUntilAsync(async () =>
        {
            foreach (var api in apis)
            {
                using var http = cluster.Client(api, luigi.AccountId);
                if ((await http.GetFromJsonAsync<JsonElement>("/lobby/all")).TryGetProperty(lobbyId, out _))
                    return false;
            }
            return true;
        }, "the dead host's lobby gone from both API nodes");
        clock.Stop();
        // The host's deadline passes HostTimeout after its last heartbeat; the next expiry pass (every
        // PruneInterval) removes it. A few seconds more for a loaded machine.
        var allowed = cluster.HostTimeout + LocalCluster.PruneInterval + TimeSpan.FromSeconds(5);
        Assert.True(clock.Elapsed <= allowed, $"the dead host's lobby was listed for {clock.Elapsed} (allowed {allowed})");
        Assert.Null(await cluster.RedisDatabase().SortedSetScoreAsync("{paperclip}:hosts", victim.HostId));
        Assert.Empty(await cluster.RedisDatabase().SetMembersAsync($"{{paperclip}}:host:{victim.HostId}:lobbies"));
        await game.DisposeAsync();

        // Both matchmake again, each on the other node than before: one new lobby, on the surviving host, that both join.
        using var again = await cluster.Client(apis[1], mario.AccountId).PostAsync("/lobby/matchmake", Json(Rps));
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        var moved = await again.JsonAsync();
        Assert.True(survivor.Holds(moved), $"the new lobby {moved} is not on {survivor.HostId}");
        using var second = await cluster.Client(apis[0], luigi.AccountId).PostAsync("/lobby/matchmake", Json(Rps));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(moved.GetProperty("lobby-id").GetInt64(), (await second.JsonAsync()).GetProperty("lobby-id").GetInt64());
        await using var marioAgain = await cluster.JoinAsync(mario, moved);
        await using var luigiGame = await cluster.JoinAsync(luigi, moved);
        var movedId = moved.GetProperty("lobby-id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
        await cluster.WaitUntilAsync(async () => (await mario.Http.GetFromJsonAsync<JsonElement>("/lobby/members")).TryGetProperty(movedId, out var m) && m.GetArrayLength() == 2, "both players members of the new lobby");
    }

    [Fact]
    public async Task Redis_restarted_without_its_data_gives_503_until_the_host_registers_again_then_recovers_with_accounts_and_friends_untouched()
    {
        ClusterTestSettings.RequireFull();
        await using var cluster = await LocalCluster.StartAsync(appendOnly: false);
        var api = await cluster.StartApiAsync("api1");
        var host = await cluster.StartHostAsync("host1", api, 4);
        var (mario, luigi) = await FriendsAsync(api);
        using var placed = await mario.Http.PostAsync("/lobby/matchmake", Json(Rps));
        Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
        var lobby = await placed.JsonAsync();
        await using var game = await cluster.JoinAsync(mario, lobby);

        // The host is paused, so nothing registers while we look at a Redis that lost everything.
        host.Node.Pause();
        await cluster.Redis.KillAsync();
        await AssertLobbyEndpointsUnavailableAsync(mario, lobby);
        await AssertAccountsAndFriendsAsync(api, mario, luigi);
        await cluster.Redis.RestartAsync();
        await cluster.WaitUntilAsync(async () => (await api.Client().GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK, "the API node reconnected to Redis");
        // Redis answers, but without the registry's state: still 503, never an empty 200.
        await AssertLobbyEndpointsUnavailableAsync(mario, lobby);

        host.Node.Resume();
        await cluster.WaitUntilAsync(async () => (await mario.Http.GetAsync("/lobby/all")).StatusCode == HttpStatusCode.OK, "the registry back once the host registered again");
        // The host was fenced (it is not registered in this Redis): it stopped the lobby it ran and offers fresh ones.
        await AssertPlaceIsRealAsync(cluster, mario);
        await AssertAccountsAndFriendsAsync(api, mario, luigi);
    }

    [Fact]
    public async Task Redis_restarted_with_its_append_only_file_keeps_the_lobbies_and_their_members()
    {
        ClusterTestSettings.RequireFull();
        // A host timeout longer than the outage: the host's heartbeats fail meanwhile, and it stays registered.
        await using var cluster = await LocalCluster.StartAsync(appendOnly: true, hostTimeout: TimeSpan.FromSeconds(60));
        var api = await cluster.StartApiAsync("api1");
        await cluster.StartHostAsync("host1", api, 4);
        var (mario, luigi) = await FriendsAsync(api);
        using var placed = await mario.Http.PostAsync("/lobby/matchmake", Json(Rps));
        Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
        var lobby = await placed.JsonAsync();
        var lobbyId = lobby.GetProperty("lobby-id").GetInt64();
        await using var game = await cluster.JoinAsync(mario, lobby);
        await cluster.WaitUntilAsync(async () => (await mario.Http.GetFromJsonAsync<JsonElement>("/lobby/members")).TryGetProperty(lobbyId.ToString(System.Globalization.CultureInfo.InvariantCulture), out var m) && m.GetArrayLength() == 1, "Mario a member");

        await cluster.Redis.KillAsync();
        await AssertLobbyEndpointsUnavailableAsync(mario, lobby);
        await AssertAccountsAndFriendsAsync(api, mario, luigi);
        await cluster.Redis.RestartAsync();

        // Back with its data: Mario is still a member of the same lobby, and Luigi is placed beside him.
        await cluster.WaitUntilAsync(async () => (await mario.Http.GetAsync("/lobby/all")).StatusCode == HttpStatusCode.OK, "the registry back");
        var members = await mario.Http.GetFromJsonAsync<JsonElement>("/lobby/members");
        Assert.Equal([mario.AccountId], members.GetProperty(lobbyId.ToString(System.Globalization.CultureInfo.InvariantCulture)).EnumerateArray().Select(m => m.GetInt64()));
        using var beside = await luigi.Http.PostAsync("/lobby/matchmake", Json(Rps));
        Assert.Equal(HttpStatusCode.OK, beside.StatusCode);
        Assert.Equal(lobbyId, (await beside.JsonAsync()).GetProperty("lobby-id").GetInt64());
        await using var luigiGame = await cluster.JoinAsync(luigi, lobby);
        await AssertAccountsAndFriendsAsync(api, mario, luigi);
    }

    [Fact]
    public async Task A_matchmake_retried_on_the_other_node_after_an_api_node_is_killed_mid_request_neither_loses_nor_doubles_a_place()
    {
        ClusterTestSettings.RequireFull();
        await using var cluster = await LocalCluster.StartAsync();
        var apis = new[] { await cluster.StartApiAsync("api1"), await cluster.StartApiAsync("api2") };
        await cluster.StartHostAsync("host1", apis[1], 200);

        // Sixteen players at a time matchmake on api1; it is killed once 50 have their answer, with requests in flight.
        var answered = new ConcurrentDictionary<long, long>();
        var failed = new ConcurrentBag<long>();
        var next = 2_000_000L;
        using var first = apis[0].Client(TimeSpan.FromSeconds(30));
        using var killing = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 16).Select(async _ =>
        {
            while (!killing.IsCancellationRequested)
            {
                var account = Interlocked.Increment(ref next);
                using var request = new HttpRequestMessage(HttpMethod.Post, "/lobby/matchmake") { Content = Json(Rps) };
                request.Headers.Authorization = new("Bearer", cluster.Token(account));
                try
                {
                    using var response = await first.SendAsync(request);
                    Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created, $"{(int)response.StatusCode}");
                    answered[account] = (await response.JsonAsync()).GetProperty("lobby-id").GetInt64();
                }
                catch (HttpRequestException)
                {
                    failed.Add(account);
                }
            }
        }).ToArray();
        await cluster.WaitUntilAsync(() => Task.FromResult(answered.Count >= 50), "50 answers from api1");
        await killing.CancelAsync();
        await apis[0].KillAsync();
        await Task.WhenAll(workers);
        Assert.NotEmpty(failed);

        // Every player retries on api2: an answered one gets the same place back, a failed one gets exactly one.
        var places = new Dictionary<long, long>();
        foreach (var account in answered.Keys.Concat(failed))
        {
            using var http = cluster.Client(apis[1], account);
            using var retried = await http.PostAsync("/lobby/matchmake", Json(Rps));
            Assert.True(retried.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created, $"retry of {account}: {(int)retried.StatusCode}");
            places[account] = (await retried.JsonAsync()).GetProperty("lobby-id").GetInt64();
            if (answered.TryGetValue(account, out var before))
            {
                Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
                Assert.Equal(before, places[account]);
            }
        }

        // Redis holds one reservation per player, where the retry said, and no lobby over its size.
        var redis = cluster.RedisDatabase();
        var reservations = new List<(long Account, long Lobby)>();
        foreach (var lobbyId in (await redis.SortedSetRangeByRankAsync("{paperclip}:lobbies")).Select(v => (long)v))
        {
            var reserved = (await redis.SortedSetRangeByRankAsync($"{{paperclip}}:lobby:{lobbyId}:reservations")).Select(v => (long)v).ToArray();
            Assert.True(reserved.Length <= 2, $"lobby {lobbyId} holds {reserved.Length} reservations");
            reservations.AddRange(reserved.Select(a => (a, lobbyId)));
        }
        Assert.Equal(places.OrderBy(p => p.Key).Select(p => (p.Key, p.Value)), reservations.OrderBy(r => r.Account));
    }

    [Fact]
    public async Task While_PostgreSQL_is_stopped_an_api_node_process_answers_503_and_recovers_by_itself()
    {
        ClusterTestSettings.RequireFull();
        await using var cluster = await LocalCluster.StartAsync();
        var api = await cluster.StartApiAsync("api1");
        await cluster.StartHostAsync("host1", api, 4);
        var (mario, luigi) = await FriendsAsync(api);

        await cluster.Postgres.StopServerAsync();
        using var anonymous = api.Client();
        foreach (var (client, method, path, body) in new (HttpClient, string, string, string?)[]
        {
            (mario.Http, "GET", "/friends/", null),
            (mario.Http, "POST", "/lobby/matchmake", Rps),
            (anonymous, "POST", "/auth/register", "{\"username\":\"toad\",\"password\":\"Mushroom-1\"}"),
            (anonymous, "GET", "/health", null),
        })
        {
            using var request = Request(new HttpMethod(method), path, body);
            using var response = await client.SendAsync(request);
            await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
        }
        // The orchestrator's readiness probe (ASP.NET Core's health-check text answer) takes the node out of rotation.
        using (var ready = await anonymous.GetAsync("/health/ready"))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        using (var login = new HttpRequestMessage(HttpMethod.Get, "/auth/token"))
        {
            login.Headers.Authorization = AppFixture.Basic(luigi.Username, luigi.Password);
            using var refused = await anonymous.SendAsync(login);
            await refused.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
        }

        await cluster.Postgres.StartServerAsync();
        await cluster.WaitUntilAsync(async () =>
        {
            using var response = await mario.Http.GetAsync("/friends/");
            if (response.StatusCode != HttpStatusCode.OK)
                await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
            return response.StatusCode == HttpStatusCode.OK;
        }, "the API node back on PostgreSQL");
        await AssertAccountsAndFriendsAsync(api, mario, luigi);
        // The refused registration did not half happen.
        using (var toad = await anonymous.PostAsync("/auth/register", Json("{\"username\":\"toad\",\"password\":\"Mushroom-1\"}")))
            Assert.Equal(HttpStatusCode.Created, toad.StatusCode);
        await AssertPlaceIsRealAsync(cluster, mario);
    }

    private static async Task<(ClusterPlayer Mario, ClusterPlayer Luigi)> FriendsAsync(NodeProcess api)
    {
        var mario = await LocalCluster.RegisterAsync(api, "mario");
        var luigi = await LocalCluster.RegisterAsync(api, "luigi");
        using var added = await mario.Http.PostAsJsonAsync("/friends/add", new { username = "luigi" });
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        return (mario, luigi);
    }

    private static async Task AssertAccountsAndFriendsAsync(NodeProcess api, ClusterPlayer mario, ClusterPlayer luigi)
    {
        var friends = await mario.Http.GetFromJsonAsync<JsonElement>("/friends/");
        Assert.Equal(luigi.AccountId, Assert.Single(friends.GetProperty("friends").EnumerateArray()).GetProperty("id").GetInt64());
        using var http = api.Client();
        using var login = new HttpRequestMessage(HttpMethod.Get, "/auth/token");
        login.Headers.Authorization = AppFixture.Basic(luigi.Username, luigi.Password);
        using var issued = await http.SendAsync(login);
        Assert.Equal(HttpStatusCode.OK, issued.StatusCode);
    }

    private static async Task AssertLobbyEndpointsUnavailableAsync(ClusterPlayer player, JsonElement lobby)
    {
        var id = lobby.GetProperty("lobby-id").GetInt64();
        // At once: while Redis is away each waits for the registry's call timeout.
        await Task.WhenAll(new Func<HttpRequestMessage>[]
        {
            () => Request(HttpMethod.Get, "/lobby/all"),
            () => Request(HttpMethod.Get, "/lobby/members"),
            () => Request(HttpMethod.Get, $"/lobby/?lobby-id={id}"),
            () => Request(HttpMethod.Get, "/lobby/find?game-id=1"),
            () => Request(HttpMethod.Post, "/lobby/matchmake", Rps),
        }.Select(async request =>
        {
            using var message = request();
            using var response = await player.Http.SendAsync(message);
            await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
        }));
    }

    // A place the API hands out is one the player can take: the lobby's host runs it and admits the player.
    private static async Task AssertPlaceIsRealAsync(LocalCluster cluster, ClusterPlayer player)
    {
        using var placed = await player.Http.PostAsync("/lobby/matchmake", Json(Rps));
        Assert.True(placed.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created, $"matchmake: {(int)placed.StatusCode}");
        var lobby = await placed.JsonAsync();
        await using var game = await cluster.JoinAsync(player, lobby);
        var id = lobby.GetProperty("lobby-id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
        await cluster.WaitUntilAsync(async () => (await player.Http.GetFromJsonAsync<JsonElement>("/lobby/members")).TryGetProperty(id, out var m) && m.EnumerateArray().Any(a => a.GetInt64() == player.AccountId), "the player a member of the lobby the API gave");
    }
}
