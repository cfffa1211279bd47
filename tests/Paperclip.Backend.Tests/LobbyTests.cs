using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Paperclip.Backend.Lobbies;
using Paperclip.Backend.Tests.Infrastructure;
using Paperclip.Games;
using static Paperclip.Backend.Tests.Infrastructure.Http;

namespace Paperclip.Backend.Tests;

public abstract class LobbyTests(AppFixture app)
{
    private ILobbyRegistry Registry => app.Service<ILobbyRegistry>();

    private ILobbyMembership Membership => app.Service<ILobbyMembership>();

    [Fact]
    public async Task Create_then_get_by_query_and_by_body()
    {
        var game = await app.AddGameAsync(3);
        var user = await app.RegisterAsync("lc");
        using var client = app.Client(user);
        using var created = await client.PostAsJsonAsync("/lobby/create", new Dictionary<string, object> { ["game-id"] = game.Id });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var lobby = await created.JsonAsync();
        var id = lobby.GetProperty("lobby-id").GetInt64();
        Assert.Equal(game.Id, lobby.GetProperty("game-id").GetInt64());
        var addr = lobby.GetProperty("lobby-addr");
        Assert.Equal("127.0.0.1", addr[0].GetString());
        Assert.InRange(addr[1].GetInt32(), 42000, 42999);

        foreach (var path in new[] { $"/lobby/?lobby-id={id}", $"/lobby?lobby-id={id}" })
        {
            var got = await client.GetFromJsonAsync<JsonElement>(path);
            Assert.Equal(id, got.GetProperty("lobby-id").GetInt64());
            Assert.Equal(addr.GetRawText(), got.GetProperty("lobby-addr").GetRawText());
        }

        using var withBody = await client.SendAsync(Request(HttpMethod.Get, "/lobby/", $"{{\"lobby-id\":{id}}}"));
        Assert.Equal(id, (await withBody.JsonAsync()).GetProperty("lobby-id").GetInt64());
    }

    [Fact]
    public async Task Lobby_responses_carry_the_lobby_state_beside_the_spec_fields()
    {
        var game = await app.AddGameAsync(2);
        var user = await app.RegisterAsync("ls");
        using var client = app.Client(user);
        using var created = await client.PostAsJsonAsync("/lobby/create", new Dictionary<string, object> { ["game-id"] = game.Id });
        var lobby = await created.JsonAsync();
        var id = lobby.GetProperty("lobby-id").GetInt64();
        Assert.Equal(["lobby-id", "lobby-addr", "game-id", "state"], lobby.EnumerateObject().Select(p => p.Name));
        Assert.Equal("Ready", lobby.GetProperty("state").GetString());

        Assert.True(await Membership.MemberJoinedAsync(id, user.Id));
        Assert.Equal("Allocated", (await client.GetFromJsonAsync<JsonElement>($"/lobby/?lobby-id={id}")).GetProperty("state").GetString());
        var listed = (await client.GetFromJsonAsync<JsonElement>("/lobby/all")).GetProperty(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(["game", "size", "members", "is-full", "state"], listed.EnumerateObject().Select(p => p.Name));
        Assert.Equal("Allocated", listed.GetProperty("state").GetString());

        await Membership.ReportStateAsync(id, Contracts.LobbyState.Scheduled);
        Assert.Equal("Scheduled", (await client.GetFromJsonAsync<JsonElement>($"/lobby/?lobby-id={id}")).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Create_by_game_name_is_case_insensitive()
    {
        var game = await app.AddGameAsync(2);
        var user = await app.RegisterAsync("ln");
        using var client = app.Client(user);
        using var created = await client.PostAsJsonAsync("/lobby/create", new Dictionary<string, object> { ["game-name"] = game.Name.ToUpperInvariant() });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(game.Id, (await created.JsonAsync()).GetProperty("game-id").GetInt64());
    }

    [Fact]
    public async Task Get_errors()
    {
        var user = await app.RegisterAsync("le");
        using var client = app.Client(user);
        using (var missing = await client.GetAsync("/lobby/"))
        {
            await missing.AssertProblemAsync(HttpStatusCode.BadRequest);
        }

        using (var wrongType = await client.GetAsync("/lobby/?lobby-id=abc"))
        {
            await wrongType.AssertProblemAsync(HttpStatusCode.BadRequest);
        }

        using (var wrongBodyType = await client.SendAsync(Request(HttpMethod.Get, "/lobby/", "{\"lobby-id\":\"3\"}")))
        {
            await wrongBodyType.AssertProblemAsync(HttpStatusCode.BadRequest);
        }

        using (var unknown = await client.GetAsync("/lobby/?lobby-id=987654"))
        {
            await unknown.AssertProblemAsync(HttpStatusCode.NotFound);
        }
    }

    [Theory]
    [InlineData("/lobby/find")]
    [InlineData("/lobby/create")]
    [InlineData("/lobby/matchmake")]
    public async Task Game_endpoints_errors(string path)
    {
        var user = await app.RegisterAsync("lg");
        using var client = app.Client(user);
        var method = path.EndsWith("find", StringComparison.Ordinal) ? HttpMethod.Get : HttpMethod.Post;
        using (var missing = await client.SendAsync(Request(method, path, "{}")))
        {
            await missing.AssertProblemAsync(HttpStatusCode.BadRequest);
        }

        using (var wrongType = await client.SendAsync(Request(method, path, "{\"game-id\":\"one\"}")))
        {
            await wrongType.AssertProblemAsync(HttpStatusCode.BadRequest);
        }

        using (var unknownId = await client.SendAsync(Request(method, path, "{\"game-id\":424242}")))
        {
            await unknownId.AssertProblemAsync(HttpStatusCode.NotFound);
        }

        using (var unknownName = await client.SendAsync(Request(method, path, "{\"game-name\":\"NoSuchGame\"}")))
        {
            await unknownName.AssertProblemAsync(HttpStatusCode.NotFound);
        }
    }

    [Fact]
    public async Task Find_prefers_the_fullest_lobby_with_space_and_404s_when_none()
    {
        var game = await app.AddGameAsync(4);
        var user = await app.RegisterAsync("lf");
        using var client = app.Client(user);
        using (var none = await client.GetAsync($"/lobby/find?game-id={game.Id}"))
        {
            await none.AssertProblemAsync(HttpStatusCode.NotFound);
        }

        var descriptor = new GameDescriptor(game.Id, game.Name, game.MinPlayers, game.MaxPlayers);
        var first = await Registry.CreateAsync(descriptor, 900_001);
        var second = await Registry.CreateAsync(descriptor, 900_002);
        Assert.True(await Membership.MemberJoinedAsync(second.LobbyId, 900_002));
        Assert.True(await Membership.MemberJoinedAsync(second.LobbyId, 900_003));

        var found = await client.GetFromJsonAsync<JsonElement>($"/lobby/find?game-name={game.Name}");
        Assert.Equal(second.LobbyId, found.GetProperty("lobby-id").GetInt64());
        using var byBody = await client.SendAsync(Request(HttpMethod.Get, "/lobby/find", $"{{\"game-id\":{game.Id}}}"));
        Assert.Equal(second.LobbyId, (await byBody.JsonAsync()).GetProperty("lobby-id").GetInt64());

        // Fill the second: the first is the only one with space.
        Assert.True(await Membership.MemberJoinedAsync(second.LobbyId, 900_004));
        Assert.True(await Membership.MemberJoinedAsync(second.LobbyId, 900_005));
        Assert.False(await Membership.MemberJoinedAsync(second.LobbyId, 900_006));
        found = await client.GetFromJsonAsync<JsonElement>($"/lobby/find?game-id={game.Id}");
        Assert.Equal(first.LobbyId, found.GetProperty("lobby-id").GetInt64());
    }

    [Fact]
    public async Task Matchmake_reserves_places_and_creates_when_full()
    {
        var game = await app.AddGameAsync(2);
        var users = await app.InsertAccountsAsync("mm", 3);
        var body = $"{{\"game-id\":{game.Id}}}";
        using var c0 = app.Client(users[0]);
        using var c1 = app.Client(users[1]);
        using var c2 = app.Client(users[2]);

        using var r0 = await c0.PostAsync("/lobby/matchmake", Json(body));
        Assert.Equal(HttpStatusCode.Created, r0.StatusCode);
        var lobby0 = (await r0.JsonAsync()).GetProperty("lobby-id").GetInt64();

        using var again = await c0.PostAsync("/lobby/matchmake", Json($"{{\"game-name\":\"{game.Name}\"}}"));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(lobby0, (await again.JsonAsync()).GetProperty("lobby-id").GetInt64());

        using var r1 = await c1.PostAsync("/lobby/matchmake", Json(body));
        Assert.Equal(HttpStatusCode.OK, r1.StatusCode);
        Assert.Equal(lobby0, (await r1.JsonAsync()).GetProperty("lobby-id").GetInt64());

        using var r2 = await c2.PostAsync("/lobby/matchmake", Json(body));
        Assert.Equal(HttpStatusCode.Created, r2.StatusCode);
        Assert.NotEqual(lobby0, (await r2.JsonAsync()).GetProperty("lobby-id").GetInt64());

        // A member who joined gets the same lobby back too.
        Assert.True(await Membership.MemberJoinedAsync(lobby0, users[1].Id));
        using var r1Again = await c1.PostAsync("/lobby/matchmake", Json(body));
        Assert.Equal(lobby0, (await r1Again.JsonAsync()).GetProperty("lobby-id").GetInt64());
    }

    [Fact]
    public async Task All_and_members_show_joined_members_size_and_is_full()
    {
        var game = await app.AddGameAsync(2);
        var user = await app.RegisterAsync("la");
        using var client = app.Client(user);
        var descriptor = new GameDescriptor(game.Id, game.Name, game.MinPlayers, game.MaxPlayers);
        var lobby = await Registry.CreateAsync(descriptor, user.Id);
        Assert.True(await Membership.MemberJoinedAsync(lobby.LobbyId, user.Id));

        var key = lobby.LobbyId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var all = await client.GetFromJsonAsync<JsonElement>("/lobby/all");
        var entry = all.GetProperty(key);
        Assert.Equal(game.Id, entry.GetProperty("game").GetProperty("game-id").GetInt64());
        Assert.Equal(game.Name, entry.GetProperty("game").GetProperty("game-name").GetString());
        Assert.Equal(2, entry.GetProperty("size").GetInt32());
        Assert.Equal(1, entry.GetProperty("members").GetInt32());
        Assert.False(entry.GetProperty("is-full").GetBoolean());

        Assert.True(await Membership.MemberJoinedAsync(lobby.LobbyId, 777_777));
        all = await client.GetFromJsonAsync<JsonElement>("/lobby/all");
        Assert.True(all.GetProperty(key).GetProperty("is-full").GetBoolean());
        Assert.Equal(2, all.GetProperty(key).GetProperty("members").GetInt32());

        var members = await client.GetFromJsonAsync<JsonElement>("/lobby/members");
        Assert.Equal([user.Id, 777_777L], members.GetProperty(key).EnumerateArray().Select(m => m.GetInt64()).ToArray());

        await Membership.MemberLeftAsync(lobby.LobbyId, 777_777);
        members = await client.GetFromJsonAsync<JsonElement>("/lobby/members");
        Assert.Equal([user.Id], members.GetProperty(key).EnumerateArray().Select(m => m.GetInt64()).ToArray());
    }

    [Fact]
    public async Task Friends_lists_friends_in_lobbies_with_space()
    {
        var game = await app.AddGameAsync(2);
        var me = await app.RegisterAsync("lme");
        var friend = await app.RegisterAsync("lfr");
        var stranger = await app.RegisterAsync("lst");
        using var client = app.Client(me);
        (await client.PostAsJsonAsync("/friends/add", new { username = friend.Username })).EnsureSuccessStatusCode();
        Assert.DoesNotContain((await client.GetFromJsonAsync<JsonElement>("/lobby/friends")).EnumerateArray(),
            e => e.GetProperty("account").GetProperty("account-id").GetInt64() == friend.Id);

        var descriptor = new GameDescriptor(game.Id, game.Name, game.MinPlayers, game.MaxPlayers);
        var open = await Registry.CreateAsync(descriptor, friend.Id);
        Assert.True(await Membership.MemberJoinedAsync(open.LobbyId, friend.Id));
        var strangers = await Registry.CreateAsync(descriptor, stranger.Id);
        Assert.True(await Membership.MemberJoinedAsync(strangers.LobbyId, stranger.Id));

        var list = (await client.GetFromJsonAsync<JsonElement>("/lobby/friends")).EnumerateArray().ToList();
        var entry = Assert.Single(list);
        Assert.Equal(friend.Id, entry.GetProperty("account").GetProperty("account-id").GetInt64());
        Assert.Equal(friend.Username, entry.GetProperty("account").GetProperty("username").GetString());
        var lobby = Assert.Single(entry.GetProperty("lobbies").EnumerateArray());
        Assert.Equal(open.LobbyId, lobby.GetProperty("lobby-id").GetInt64());
        Assert.Equal(game.Id, lobby.GetProperty("game-id").GetInt64());
        Assert.Equal(game.Name, lobby.GetProperty("game-name").GetString());

        // Full lobbies are not listed.
        Assert.True(await Membership.MemberJoinedAsync(open.LobbyId, 555_555));
        Assert.Empty((await client.GetFromJsonAsync<JsonElement>("/lobby/friends")).EnumerateArray());
    }

    [Fact]
    public async Task Lobby_endpoints_need_auth()
    {
        using var client = app.Anonymous();
        foreach (var (method, path) in new[] { (HttpMethod.Get, "/lobby/?lobby-id=1"), (HttpMethod.Get, "/lobby/find?game-id=1"), (HttpMethod.Post, "/lobby/create"), (HttpMethod.Post, "/lobby/matchmake") })
        {
            using var response = await client.SendAsync(Request(method, path, "{\"game-id\":1}"));
            await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        }
    }
}

public sealed class LobbyTestsSqlite(SqliteApp app) : LobbyTests(app), IClassFixture<SqliteApp>;

public sealed class LobbyTestsPostgres(PostgresApp app) : LobbyTests(app), IClassFixture<PostgresApp>;

/// <summary>A server with two lobby ports.</summary>
public sealed class TwoPortSqliteApp : AppFixture
{
    public override Db Database => Db.Sqlite;

    protected override void Configure(Dictionary<string, string?> settings) => settings["Paperclip:Lobbies:PortRange"] = "43000-43001";
}

public sealed class TwoPortPostgresApp : AppFixture
{
    public override Db Database => Db.Postgres;

    protected override void Configure(Dictionary<string, string?> settings) => settings["Paperclip:Lobbies:PortRange"] = "43000-43001";
}

public abstract class LobbyCapacityTests(AppFixture app)
{
    [Fact]
    public async Task No_free_port_is_503_for_create_and_matchmake()
    {
        var users = await app.InsertAccountsAsync("cap", 3);
        var body = "{\"game-id\":1}";
        using var c0 = app.Client(users[0]);
        using var c1 = app.Client(users[1]);
        using var c2 = app.Client(users[2]);
        using (var first = await c0.PostAsync("/lobby/create", Json(body)))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
            Assert.Equal(43000, (await first.JsonAsync()).GetProperty("lobby-addr")[1].GetInt32());
        }

        using (var second = await c1.PostAsync("/lobby/create", Json(body)))
        {
            Assert.Equal(HttpStatusCode.Created, second.StatusCode);
            Assert.Equal(43001, (await second.JsonAsync()).GetProperty("lobby-addr")[1].GetInt32());
        }

        using (var third = await c2.PostAsync("/lobby/create", Json(body)))
        {
            await third.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
        }

        // Both lobbies hold one reservation of two places: matchmaking still finds space.
        using (var fits = await c2.PostAsync("/lobby/matchmake", Json(body)))
        {
            Assert.Equal(HttpStatusCode.OK, fits.StatusCode);
        }

        var more = await app.InsertAccountsAsync("cap", 1);
        using var c3 = app.Client(more[0]);
        using (var full = await c3.PostAsync("/lobby/matchmake", Json(body)))
        {
            Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        }

        var last = await app.InsertAccountsAsync("cap", 1);
        using var c4 = app.Client(last[0]);
        using (var none = await c4.PostAsync("/lobby/matchmake", Json(body)))
        {
            await none.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
        }
    }
}

public sealed class LobbyCapacityTestsSqlite(TwoPortSqliteApp app) : LobbyCapacityTests(app), IClassFixture<TwoPortSqliteApp>;

public sealed class LobbyCapacityTestsPostgres(TwoPortPostgresApp app) : LobbyCapacityTests(app), IClassFixture<TwoPortPostgresApp>;
