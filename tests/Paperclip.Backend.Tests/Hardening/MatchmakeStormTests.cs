using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Paperclip.Backend.Lobbies;
using Paperclip.Backend.Tests.Infrastructure;
using Paperclip.Games.RockPaperScissors;
using static Paperclip.Backend.Tests.Infrastructure.Http;

namespace Paperclip.Backend.Tests.Hardening;

/// <summary>
/// 1,000 parallel <c>/lobby/matchmake</c> calls for RPS by 1,000 distinct accounts over HTTP, on a
/// port range of exactly 500: every lobby holds at most 2, there are exactly 500, nobody is left
/// without a place; then half of them call again at once and get their own lobby back.
/// </summary>
public abstract class MatchmakeStormTests(AppFixture app)
{
    /// <summary>Exactly as many ports as the storm needs lobbies: a leaked or doubled lobby shows as a 503.</summary>
    public const string PortRange = "45000-45499";

    [Fact]
    public async Task Thousand_parallel_matchmakes_fill_exactly_500_lobbies_and_repeat_callers_keep_theirs()
    {
        const int players = 1000;
        const int lobbies = players / 2;

        // Two accounts through the API (real PBKDF2 and login); the rest inserted directly, with tokens.
        var users = new List<TestUser> { await app.RegisterAsync("storm"), await app.RegisterAsync("storm") };
        users.AddRange(await app.InsertAccountsAsync("storm", players - users.Count));
        using var client = app.Anonymous();
        client.Timeout = TimeSpan.FromMinutes(2);

        var first = await StormAsync(client, users);
        Assert.All(first, r => Assert.True(r.Status is HttpStatusCode.OK or HttpStatusCode.Created, $"account {r.AccountId}: {(int)r.Status} {r.Body}"));
        var byLobby = first.GroupBy(r => r.LobbyId).ToList();
        Assert.Equal(lobbies, byLobby.Count);
        Assert.All(byLobby, g => Assert.Equal(2, g.Count()));
        Assert.Equal(lobbies, first.Count(r => r.Status == HttpStatusCode.Created));
        Assert.All(byLobby, g => Assert.Single(g, r => r.Status == HttpStatusCode.Created));
        Assert.Equal(lobbies, first.Select(r => r.Port).Distinct().Count());
        await AssertRegistryAsync(users, first.ToDictionary(r => r.AccountId, r => r.LobbyId));

        // The HTTP view agrees: 500 RPS lobbies, none over its size.
        using (var all = await client.SendAsync(Authorized(HttpMethod.Get, "/lobby/all", users[0])))
        {
            var listed = (await all.JsonAsync()).EnumerateObject().Select(p => p.Value).Where(l => l.GetProperty("game").GetProperty("game-id").GetInt64() == RockPaperScissorsGame.Descriptor.Id).ToList();
            Assert.Equal(lobbies, listed.Count);
            Assert.All(listed, l => Assert.InRange(l.GetProperty("members").GetInt32(), 0, l.GetProperty("size").GetInt32()));
        }

        // Half of them (seeded choice) call again, all at once: the same lobby, 200, nothing new.
        var random = new Random(HardeningSettings.Seed(500));
        var again = users.OrderBy(_ => random.Next()).Take(players / 2).ToList();
        var second = await StormAsync(client, again);
        var lobbyOf = first.ToDictionary(r => r.AccountId, r => r.LobbyId);
        Assert.All(second, r =>
        {
            Assert.True(r.Status == HttpStatusCode.OK, $"account {r.AccountId}: {(int)r.Status} {r.Body}");
            Assert.Equal(lobbyOf[r.AccountId], r.LobbyId);
        });
        await AssertRegistryAsync(users, lobbyOf);
    }

    private async Task AssertRegistryAsync(List<TestUser> users, Dictionary<long, long> lobbyOf)
    {
        var rps = (await app.Service<ILobbyRegistry>().ListAsync()).Where(l => l.Game.Id == RockPaperScissorsGame.Descriptor.Id).ToList();
        Assert.Equal(users.Count / 2, rps.Count);
        Assert.All(rps, l => Assert.InRange(l.Members.Count + l.Reservations.Count, 0, l.Size));
        var places = rps.SelectMany(l => l.Members.Concat(l.Reservations).Select(account => (account, l.LobbyId))).ToList();
        Assert.Equal(places.Count, places.Select(p => p.account).Distinct().Count());
        Assert.All(users, u => Assert.Contains((u.Id, lobbyOf[u.Id]), places));
    }

    private static async Task<List<Answer>> StormAsync(HttpClient client, List<TestUser> users)
    {
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = users.Select((user, i) => Task.Run(async () =>
        {
            await go.Task;
            // Half by id and half by name: both paths find the same game.
            using var request = Authorized(HttpMethod.Post, "/lobby/matchmake", user);
            request.Content = Json(i % 2 == 0 ? "{\"game-name\":\"RPS\"}" : $"{{\"game-id\":{RockPaperScissorsGame.Descriptor.Id}}}");
            using var response = await client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.Created))
            {
                return new Answer(user.Id, response.StatusCode, 0, 0, text);
            }

            var body = JsonDocument.Parse(text).RootElement;
            return new Answer(user.Id, response.StatusCode, body.GetProperty("lobby-id").GetInt64(), body.GetProperty("lobby-addr")[1].GetInt32(), text);
        })).ToList();
        go.SetResult();
        return [.. await Task.WhenAll(calls).WaitAsync(TimeSpan.FromMinutes(3))];
    }

    private static HttpRequestMessage Authorized(HttpMethod method, string path, TestUser user)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.Token);
        return request;
    }

    private sealed record Answer(long AccountId, HttpStatusCode Status, long LobbyId, int Port, string Body);
}

/// <summary>A server on SQLite whose port range holds exactly the storm's 500 lobbies.</summary>
public sealed class StormSqliteApp : AppFixture
{
    public override Db Database => Db.Sqlite;

    protected override void Configure(Dictionary<string, string?> settings) =>
        settings["Paperclip:Lobbies:PortRange"] = MatchmakeStormTests.PortRange;
}

/// <summary>A server on PostgreSQL whose port range holds exactly the storm's 500 lobbies.</summary>
public sealed class StormPostgresApp : AppFixture
{
    public override Db Database => Db.Postgres;

    protected override void Configure(Dictionary<string, string?> settings) =>
        settings["Paperclip:Lobbies:PortRange"] = MatchmakeStormTests.PortRange;
}

public sealed class MatchmakeStormTestsSqlite(StormSqliteApp app) : MatchmakeStormTests(app), IClassFixture<StormSqliteApp>;

public sealed class MatchmakeStormTestsPostgres(StormPostgresApp app) : MatchmakeStormTests(app), IClassFixture<StormPostgresApp>;
