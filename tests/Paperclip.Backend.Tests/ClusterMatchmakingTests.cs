using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Paperclip.Backend.Tests.Infrastructure;
using static Paperclip.Backend.Tests.Infrastructure.Http;

namespace Paperclip.Backend.Tests;

/// <summary>
/// Two API node processes and two game-host processes on one Redis and one PostgreSQL: matchmaking
/// spread over both nodes packs lobbies as one node does, and what a host reports is seen from both.
/// </summary>
[Collection(ClusterProcesses.Name)]
public sealed class ClusterMatchmakingTests
{
    private const int LobbySize = 2; // RPS

    [Fact]
    public async Task Concurrent_matchmakes_over_two_api_nodes_never_overfill_a_lobby_and_pack_as_one_node()
    {
        var players = ClusterTestSettings.Full ? 1000 : 200;
        await using var cluster = await LocalCluster.StartAsync();
        var apis = new[] { await cluster.StartApiAsync("api1"), await cluster.StartApiAsync("api2") };
        var hostPorts = (players / LobbySize / 2) + 20;
        await cluster.StartHostAsync("host1", apis[0], hostPorts);
        await cluster.StartHostAsync("host2", apis[1], hostPorts);

        // Every request at once, alternating nodes: the registry's scripts are all that keeps two nodes apart.
        var clients = apis.Select(a => a.Client(TimeSpan.FromSeconds(60))).ToArray();
        var answers = await Task.WhenAll(Enumerable.Range(0, players).Select(async i =>
        {
            var accountId = 1_000_000 + i;
            using var request = new HttpRequestMessage(HttpMethod.Post, "/lobby/matchmake") { Content = Json($"{{\"game-id\":{LocalCluster.GameId}}}") };
            request.Headers.Authorization = new("Bearer", cluster.Token(accountId));
            await Task.Yield();
            using var response = await clients[i % 2].SendAsync(request);
            return (AccountId: (long)accountId, response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }));
        if (answers.FirstOrDefault(a => a.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.Created)) is { Body: not null } refused)
            Assert.Fail($"{answers.Count(a => a.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.Created))} matchmakes refused, the first: {(int)refused.StatusCode} {refused.Body}\n{await cluster.LogsAsync()}");
        var places = answers.Select(a => (a.AccountId, a.StatusCode, LobbyId: JsonDocument.Parse(a.Body).RootElement.GetProperty("lobby-id").GetInt64())).ToArray();

        // One node places players in the fullest lobby with space and opens a lobby only when none has
        // space: ceil(players / size) lobbies, every one full but the last.
        var byLobby = places.GroupBy(a => a.LobbyId).ToDictionary(g => g.Key, g => g.Select(a => a.AccountId).Order().ToArray());
        Assert.All(byLobby, l => Assert.True(l.Value.Length <= LobbySize, $"lobby {l.Key} got {l.Value.Length} places"));
        if (byLobby.Count != (players + LobbySize - 1) / LobbySize)
        {
            var partial = new List<string>();
            foreach (var (id, accounts) in byLobby.Where(l => l.Value.Length < LobbySize))
            {
                var fields = await cluster.RedisDatabase().HashGetAllAsync($"{{paperclip}}:lobby:{id}");
                partial.Add($"{id} [{string.Join(", ", accounts)}] {string.Join(",", fields.Select(e => $"{e.Name}={e.Value}"))}");
            }
            Assert.Fail($"{byLobby.Count} lobbies for {players} players; not full: {string.Join("; ", partial)}\n{await cluster.LogsAsync()}");
        }
        Assert.Equal(byLobby.Count, places.Count(a => a.StatusCode == HttpStatusCode.Created));
        Assert.Equal(players, places.Select(a => a.AccountId).Distinct().Count());

        // What the nodes answered is what Redis holds: each lobby's reservations are exactly its answers.
        var redis = cluster.RedisDatabase();
        foreach (var (lobbyId, accounts) in byLobby)
        {
            var reserved = (await redis.SortedSetRangeByRankAsync($"{{paperclip}}:lobby:{lobbyId}:reservations")).Select(v => (long)v).Order().ToArray();
            var members = await redis.SortedSetLengthAsync($"{{paperclip}}:lobby:{lobbyId}:members");
            if (!accounts.SequenceEqual(reserved))
                Assert.Fail($"lobby {lobbyId}: answered [{string.Join(", ", accounts)}], Redis holds [{string.Join(", ", reserved)}]\n{await cluster.LogsAsync()}");
            Assert.Equal(0, members);
        }

        // Both nodes list the same lobbies; a second matchmake of a player, on the other node, gives its place back.
        var lists = await Task.WhenAll(apis.Select(async a =>
        {
            using var http = cluster.Client(a, 1);
            return (await http.GetFromJsonAsync<JsonElement>("/lobby/all")).EnumerateObject().Select(p => long.Parse(p.Name, System.Globalization.CultureInfo.InvariantCulture)).Order().ToArray();
        }));
        Assert.Equal(byLobby.Keys.Order().ToArray(), lists[0]);
        Assert.Equal(lists[0], lists[1]);
        foreach (var answer in places.Take(10))
        {
            using var http = cluster.Client(apis[1 - (int)((answer.AccountId - 1_000_000) % 2)], answer.AccountId);
            using var again = await http.PostAsync("/lobby/matchmake", Json($"{{\"game-id\":{LocalCluster.GameId}}}"));
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Equal(answer.LobbyId, (await again.JsonAsync()).GetProperty("lobby-id").GetInt64());
        }
        foreach (var client in clients)
            client.Dispose();
    }

    [Fact]
    public async Task Members_a_game_host_reports_are_seen_from_both_api_nodes()
    {
        ClusterTestSettings.RequireFull();
        await using var cluster = await LocalCluster.StartAsync();
        var apis = new[] { await cluster.StartApiAsync("api1"), await cluster.StartApiAsync("api2") };
        await cluster.StartHostAsync("host1", apis[0], 4);
        var mario = await LocalCluster.RegisterAsync(apis[0], "mario");
        var luigi = await LocalCluster.RegisterAsync(apis[1], "luigi");

        using var created = await mario.Http.PostAsync("/lobby/matchmake", Json("{\"game-id\":1}"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var lobby = await created.JsonAsync();
        using var joined = await luigi.Http.PostAsync("/lobby/matchmake", Json("{\"game-id\":1}"));
        Assert.Equal(HttpStatusCode.OK, joined.StatusCode);
        var lobbyId = lobby.GetProperty("lobby-id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(lobbyId, (await joined.JsonAsync()).GetProperty("lobby-id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture));

        async Task<bool> BothNodesShowAsync(params long[] expected)
        {
            foreach (var api in apis)
            {
                using var http = cluster.Client(api, mario.AccountId);
                var members = await http.GetFromJsonAsync<JsonElement>("/lobby/members");
                var listed = members.TryGetProperty(lobbyId, out var ids) ? ids.EnumerateArray().Select(i => i.GetInt64()).Order().ToArray() : [];
                if (!listed.SequenceEqual(expected.Order()))
                    return false;
            }
            return true;
        }

        Assert.True(await BothNodesShowAsync());
        await using var marioGame = await cluster.JoinAsync(mario, lobby);
        await cluster.WaitUntilAsync(() => BothNodesShowAsync(mario.AccountId), "Mario listed as a member by both API nodes");
        var luigiGame = await cluster.JoinAsync(luigi, lobby);
        await cluster.WaitUntilAsync(() => BothNodesShowAsync(mario.AccountId, luigi.AccountId), "both players listed by both API nodes");
        foreach (var api in apis)
        {
            using var http = cluster.Client(api, mario.AccountId);
            var summary = (await http.GetFromJsonAsync<JsonElement>("/lobby/all")).GetProperty(lobbyId);
            Assert.Equal(2, summary.GetProperty("members").GetInt32());
            Assert.True(summary.GetProperty("is-full").GetBoolean());
        }

        await luigiGame.DisposeAsync();
        await cluster.WaitUntilAsync(() => BothNodesShowAsync(mario.AccountId), "Luigi's leaving seen by both API nodes");
    }
}
