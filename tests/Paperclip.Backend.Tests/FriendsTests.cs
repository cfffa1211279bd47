using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Paperclip.Backend.Tests.Infrastructure;
using static Paperclip.Backend.Tests.Infrastructure.Http;

namespace Paperclip.Backend.Tests;

public abstract class FriendsTests(AppFixture app)
{
    [Fact]
    public async Task Add_list_and_remove_friends_symmetrically()
    {
        var a = await app.RegisterAsync("fa");
        var b = await app.RegisterAsync("fb");
        using var ca = app.Client(a);
        using var cb = app.Client(b);

        Assert.Empty((await ca.GetFromJsonAsync<JsonElement>("/friends/")).GetProperty("friends").EnumerateArray());

        using (var added = await ca.PostAsJsonAsync("/friends/add", new { username = b.Username.ToUpperInvariant() }))
        {
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
            var body = await added.JsonAsync();
            Assert.Equal(a.Id, body.GetProperty("account").GetProperty("id").GetInt64());
            Assert.Equal(a.Username, body.GetProperty("account").GetProperty("username").GetString());
            Assert.Equal(b.Id, body.GetProperty("other").GetProperty("id").GetInt64());
            Assert.Equal(b.Username, body.GetProperty("other").GetProperty("username").GetString());
        }

        foreach (var path in new[] { "/friends/", "/friends" })
        {
            var ofA = (await ca.GetFromJsonAsync<JsonElement>(path)).GetProperty("friends").EnumerateArray().ToList();
            Assert.Equal(b.Id, Assert.Single(ofA).GetProperty("id").GetInt64());
            Assert.Equal(b.Username, ofA[0].GetProperty("username").GetString());
        }

        var ofB = (await cb.GetFromJsonAsync<JsonElement>("/friends/")).GetProperty("friends").EnumerateArray().ToList();
        Assert.Equal(a.Id, Assert.Single(ofB).GetProperty("id").GetInt64());

        // Already friends, from either side.
        using (var again = await cb.PostAsJsonAsync("/friends/add", new { username = a.Username }))
        {
            await again.AssertProblemAsync(HttpStatusCode.Conflict);
        }

        using (var removed = await cb.SendAsync(Request(HttpMethod.Delete, "/friend/remove", $"{{\"username\":\"{a.Username}\"}}")))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }

        Assert.Empty((await ca.GetFromJsonAsync<JsonElement>("/friends/")).GetProperty("friends").EnumerateArray());
        using (var notFriends = await ca.SendAsync(Request(HttpMethod.Delete, "/friend/remove", $"{{\"username\":\"{b.Username}\"}}")))
        {
            await notFriends.AssertProblemAsync(HttpStatusCode.NotFound);
        }
    }

    [Fact]
    public async Task Remove_alias_and_query_form()
    {
        var a = await app.RegisterAsync("ra");
        var b = await app.RegisterAsync("rb");
        var c = await app.RegisterAsync("rc");
        using var ca = app.Client(a);
        (await ca.PostAsJsonAsync("/friends/add", new { username = b.Username })).EnsureSuccessStatusCode();
        (await ca.PostAsJsonAsync("/friends/add", new { username = c.Username })).EnsureSuccessStatusCode();
        Assert.Equal(2, (await ca.GetFromJsonAsync<JsonElement>("/friends")).GetProperty("friends").GetArrayLength());

        using (var alias = await ca.SendAsync(Request(HttpMethod.Delete, "/friends/remove", $"{{\"username\":\"{b.Username}\"}}")))
        {
            Assert.Equal(HttpStatusCode.NoContent, alias.StatusCode);
        }

        using (var query = await ca.DeleteAsync($"/friend/remove?username={c.Username}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, query.StatusCode);
        }

        Assert.Equal(0, (await ca.GetFromJsonAsync<JsonElement>("/friends")).GetProperty("friends").GetArrayLength());
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"username\":\"\"}")]
    [InlineData("{\"username\":7}")]
    public async Task Add_with_missing_or_bad_username_is_400(string json)
    {
        var a = await app.RegisterAsync("fx");
        using var ca = app.Client(a);
        using var response = await ca.PostAsync("/friends/add", Json(json));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Add_yourself_is_400_and_unknown_user_is_404()
    {
        var a = await app.RegisterAsync("self");
        using var ca = app.Client(a);
        using (var self = await ca.PostAsJsonAsync("/friends/add", new { username = a.Username.ToUpperInvariant() }))
        {
            await self.AssertProblemAsync(HttpStatusCode.BadRequest);
        }

        using (var unknown = await ca.PostAsJsonAsync("/friends/add", new { username = "nobody-here" }))
        {
            await unknown.AssertProblemAsync(HttpStatusCode.NotFound);
        }
    }

    [Theory]
    [InlineData("/friend/remove", "{}")]
    [InlineData("/friends/remove", "{\"username\":\"\"}")]
    [InlineData("/friend/remove", "{\"username\":false}")]
    public async Task Remove_with_missing_username_is_400(string path, string json)
    {
        var a = await app.RegisterAsync("rx");
        using var ca = app.Client(a);
        using var response = await ca.SendAsync(Request(HttpMethod.Delete, path, json));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        using var empty = await ca.DeleteAsync(path);
        await empty.AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Remove_unknown_user_is_404()
    {
        var a = await app.RegisterAsync("ru");
        using var ca = app.Client(a);
        using var response = await ca.SendAsync(Request(HttpMethod.Delete, "/friend/remove", "{\"username\":\"nobody-at-all\"}"));
        await response.AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Friends_endpoints_need_auth()
    {
        using var client = app.Anonymous();
        using (var add = await client.PostAsJsonAsync("/friends/add", new { username = "x" }))
        {
            await add.AssertProblemAsync(HttpStatusCode.Unauthorized);
        }

        using (var remove = await client.SendAsync(Request(HttpMethod.Delete, "/friend/remove", "{\"username\":\"x\"}")))
        {
            await remove.AssertProblemAsync(HttpStatusCode.Unauthorized);
        }

        using (var list = await client.GetAsync("/friends"))
        {
            await list.AssertProblemAsync(HttpStatusCode.Unauthorized);
        }
    }
}

public sealed class FriendsTestsSqlite(SqliteApp app) : FriendsTests(app), IClassFixture<SqliteApp>;

public sealed class FriendsTestsPostgres(PostgresApp app) : FriendsTests(app), IClassFixture<PostgresApp>;

public abstract class GamesTests(AppFixture app)
{
    [Theory]
    [InlineData("/games/")]
    [InlineData("/games")]
    public async Task Games_lists_RPS(string path)
    {
        var user = await app.RegisterAsync("g");
        using var client = app.Client(user);
        var games = await client.GetFromJsonAsync<JsonElement>(path);
        Assert.Equal("RPS", games.GetProperty("1").GetString());
    }

    [Fact]
    public async Task Games_needs_auth()
    {
        using var client = app.Anonymous();
        using var response = await client.GetAsync("/games");
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
    }
}

public sealed class GamesTestsSqlite(SqliteApp app) : GamesTests(app), IClassFixture<SqliteApp>;

public sealed class GamesTestsPostgres(PostgresApp app) : GamesTests(app), IClassFixture<PostgresApp>;
