using System.Net;
using Npgsql;
using Paperclip.Backend.Security;
using Paperclip.Backend.Tests.Infrastructure;
using static Paperclip.Backend.Tests.Infrastructure.Http;

namespace Paperclip.Backend.Tests;

/// <summary>
/// A <c>Mode=GameHost</c> process is a game host and nothing more: it serves no API route, holds
/// no root server key or token key, migrates no database, and its lobbies take handshakes.
/// </summary>
[Collection(ClusterProcesses.Name)]
public sealed class GameHostProcessTests
{
    [Fact]
    public async Task A_game_host_process_serves_no_api_writes_no_key_migrates_nothing_and_hosts_lobbies_players_join()
    {
        await using var cluster = await LocalCluster.StartAsync();
        var api = await cluster.StartApiAsync("api1");
        // Reached at another loopback address than the default: its lobbies must listen there.
        var host = await cluster.StartHostAsync("host1", api, 2, publicHost: "127.0.0.2");
        // A second host on a database no API node has migrated: it starts, and leaves it empty.
        var untouched = await cluster.Postgres.CreateDatabaseAsync("untouched");
        var bare = await cluster.StartHostAsync("host2", api, 2, untouched);

        using var http = host.Node.Client();
        foreach (var (method, path) in new[] { ("GET", "/auth/server-key"), ("GET", "/lobby/all"), ("POST", "/lobby/matchmake"), ("GET", "/games"), ("GET", "/openapi/v1.json"), ("GET", "/console") })
        {
            using var answer = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "POST" ? Json("{\"game-id\":1}") : null });
            Assert.True(answer.StatusCode == HttpStatusCode.NotFound, $"{method} {path} answered {(int)answer.StatusCode} on a game host");
            Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
        }
        using (var ready = await http.GetAsync("/health/ready"))
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using (var health = await http.GetAsync("/health"))
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Contains("paperclip_gamehost_lobbies", await http.GetStringAsync("/metrics"), StringComparison.Ordinal);

        foreach (var node in new[] { host.Node, bare.Node })
        {
            Assert.False(File.Exists(Path.Combine(node.DataDirectory, "secrets", SecretStore.ServerKeyFile)), $"{node.Name} wrote a server key");
            Assert.False(File.Exists(Path.Combine(node.DataDirectory, "secrets", SecretStore.SigningKeyFile)), $"{node.Name} wrote a token key");
            Assert.Empty(Directory.GetFiles(node.DataDirectory, "*.db"));
        }
        await using (var connection = new NpgsqlConnection(untouched))
        {
            await connection.OpenAsync();
            await using var tables = new NpgsqlCommand("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'", connection);
            Assert.Equal(0L, (long)(await tables.ExecuteScalarAsync())!);
        }
        // Gone (its heartbeats stop), so the lobby below is placed on the first host.
        await bare.Node.KillAsync();
        await cluster.WaitUntilAsync(async () =>
            await cluster.RedisDatabase().SortedSetScoreAsync("{paperclip}:hosts", bare.HostId) is null, "the killed host gone from Redis");

        // The host's lobbies still take players: a registered account matchmakes on the API and
        // completes the handshake with the host's lobby (its key read from the cluster's database).
        var mario = await LocalCluster.RegisterAsync(api, "mario");
        using var placed = await mario.Http.PostAsync("/lobby/matchmake", Json("{\"game-id\":1}"));
        Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
        var lobby = await placed.JsonAsync();
        Assert.True(host.Holds(lobby), $"the lobby {lobby} is not on {host.HostId}");
        await using var game = await cluster.JoinAsync(mario, lobby);
        Assert.True(game.IsConnected);
    }
}
