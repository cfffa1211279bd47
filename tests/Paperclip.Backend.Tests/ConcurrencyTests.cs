using System.Net;
using System.Text.Json;
using Paperclip.Backend.Lobbies;
using Paperclip.Backend.Tests.Infrastructure;
using static Paperclip.Backend.Tests.Infrastructure.Http;

namespace Paperclip.Backend.Tests;

/// <summary>200 parallel matchmake calls over HTTP for RPS by 200 accounts.</summary>
public abstract class ConcurrencyTests(AppFixture app)
{
    [Fact]
    public async Task Parallel_matchmaking_never_overfills_a_lobby()
    {
        const int players = 200;
        var users = await app.InsertAccountsAsync("par", players);
        using var start = new ManualResetEventSlim(false);
        var clients = users.Select(app.Client).ToList();
        try
        {
            var calls = users.Select((user, i) => Task.Run(async () =>
            {
                start.Wait(TimeSpan.FromSeconds(30));
                using var response = await clients[i].PostAsync("/lobby/matchmake", Json("{\"game-name\":\"RPS\"}"));
                var text = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created, text);
                return (user.Id, Lobby: JsonDocument.Parse(text).RootElement.GetProperty("lobby-id").GetInt64(), Created: response.StatusCode == HttpStatusCode.Created);
            })).ToList();
            start.Set();
            var results = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromMinutes(2));

            var byLobby = results.GroupBy(r => r.Lobby).ToList();
            Assert.All(byLobby, g => Assert.InRange(g.Count(), 1, 2));
            Assert.Equal(players / 2, byLobby.Count);
            Assert.Equal(players / 2, results.Count(r => r.Created));
            Assert.Equal(players, results.Select(r => r.Id).Distinct().Count());

            var registry = app.Service<ILobbyRegistry>();
            var lobbies = (await registry.ListAsync()).Where(l => l.Game.Id == 1).ToList();
            Assert.Equal(players / 2, lobbies.Count);
            Assert.All(lobbies, l => Assert.InRange(l.Members.Count + l.Reservations.Count, 0, l.Size));
            var placed = lobbies.SelectMany(l => l.Reservations.Concat(l.Members)).ToHashSet();
            Assert.All(users, u => Assert.Contains(u.Id, placed));
            Assert.Equal(lobbies.Count, lobbies.Select(l => l.Address.Port).Distinct().Count());
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }
}

public sealed class ConcurrencyTestsSqlite(SqliteApp app) : ConcurrencyTests(app), IClassFixture<SqliteApp>;

public sealed class ConcurrencyTestsPostgres(PostgresApp app) : ConcurrencyTests(app), IClassFixture<PostgresApp>;
