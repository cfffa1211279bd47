using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Paperclip.Backend.Tests.Infrastructure;
using static Paperclip.Backend.Tests.Infrastructure.Http;

namespace Paperclip.Backend.Tests;

/// <summary>problem+json for every error, never 500 for bad input; /health; /openapi/v1.json.</summary>
public abstract class ConventionsTests(AppFixture app)
{
    public static TheoryData<string, string> BadBodies => new()
    {
        { "/auth/register", "{\"username\":" },
        { "/auth/register", "not json" },
        { "/auth/register", "[\"a\",\"b\"]" },
        { "/auth/register", "\"just a string\"" },
        { "/auth/register", "{\"username\":{\"nested\":1},\"password\":\"x\"}" },
        { "/auth/certificate/validate", "{\"certificate\":" },
        { "/friends/add", "{\"username\":[]}" },
        { "/friends/add", "{" },
        { "/lobby/create", "{\"game-id\":1.5}" },
        { "/lobby/create", "{\"game-id\":true}" },
        { "/lobby/create", "{\"game-id\":99999999999999999999999}" },
        { "/lobby/create", "{\"game-name\":5}" },
        { "/lobby/matchmake", "{\"game-id\":null}" },
        { "/lobby/matchmake", "{\"game-id\":" },
        { "/lobby/matchmake", "{\"game-id\":1}}" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Malformed_json_and_wrong_types_are_400_problem_json(string path, string json)
    {
        var user = await app.RegisterAsync("bad");
        using var client = app.Client(user);
        using var response = await client.PostAsync(path, Json(json));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("POST", "/auth/register", "{\"password\":\"x\"}", "The field 'username' is required.")]
    [InlineData("POST", "/auth/register", "{\"username\":null,\"password\":\"x\"}", "The field 'username' is required.")]
    [InlineData("POST", "/auth/register", "{\"username\":\"a\",\"password\":\"\"}", "The field 'password' is required.")]
    [InlineData("POST", "/auth/register", "{\"username\":\"a\",\"password\":7}", "The field 'password' has the wrong type or an invalid value.")]
    [InlineData("GET", "/lobby/", "{\"lobby-id\":9223372036854775808}", "The field 'lobby-id' has the wrong type or an invalid value.")]
    [InlineData("GET", "/lobby/?lobby-id=abc", null, "The field 'lobby-id' has the wrong type or an invalid value.")]
    [InlineData("GET", "/lobby/?lobby-id=", null, "The field 'lobby-id' is required.")]
    [InlineData("POST", "/lobby/create", "{\"game-name\":\"RPS\",\"game-name\":\"Other\"}", "The request body is not valid JSON (or it repeats a name).")]
    [InlineData("POST", "/friends/add", "{\"username\":\"a\",\"username\":{}}", "The request body is not valid JSON (or it repeats a name).")]
    public async Task A_request_that_does_not_fit_its_contract_is_400_naming_what_is_wrong(string method, string path, string? json, string detail)
    {
        var user = await app.RegisterAsync("fit");
        using var client = app.Client(user);
        using var response = await client.SendAsync(Request(new HttpMethod(method), path, json));
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(detail, problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Oversized_body_is_413_problem_json()
    {
        var user = await app.RegisterAsync("big");
        using var client = app.Client(user);
        var big = "{\"username\":\"" + new string('a', 70_000) + "\",\"password\":\"x\"}";
        using (var response = await client.PostAsync("/auth/register", Json(big)))
        {
            await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        }

        // Without Content-Length (chunked).
        using var stream = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        stream.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/friends/add") { Content = stream };
        request.Headers.TransferEncodingChunked = true;
        using (var response = await client.SendAsync(request))
        {
            await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        }
    }

    [Fact]
    public async Task Wrong_content_type_is_415_problem_json()
    {
        using var client = app.Anonymous();
        using var response = await client.PostAsync("/auth/register", new StringContent("{\"username\":\"a\",\"password\":\"b\"}", Encoding.UTF8, "text/plain"));
        await response.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Unknown_path_is_404_and_wrong_method_is_405_problem_json()
    {
        using var client = app.Anonymous();
        using (var unknown = await client.GetAsync("/no/such/endpoint"))
        {
            await unknown.AssertProblemAsync(HttpStatusCode.NotFound);
        }

        using (var wrongMethod = await client.PutAsync("/auth/register", Json("{}")))
        {
            await wrongMethod.AssertProblemAsync(HttpStatusCode.MethodNotAllowed);
        }
    }

    [Fact]
    public async Task Unknown_ids_are_404_never_500()
    {
        var user = await app.RegisterAsync("ids");
        using var client = app.Client(user);
        using (var lobby = await client.GetAsync("/lobby/?lobby-id=-5"))
        {
            await lobby.AssertProblemAsync(HttpStatusCode.NotFound);
        }

        using (var game = await client.PostAsync("/lobby/matchmake", Json("{\"game-id\":-1}")))
        {
            await game.AssertProblemAsync(HttpStatusCode.NotFound);
        }

        using (var friend = await client.PostAsJsonAsync("/friends/add", new { username = new string('z', 40) }))
        {
            await friend.AssertProblemAsync(HttpStatusCode.NotFound);
        }
    }

    [Fact]
    public async Task Garbage_authorization_headers_are_401()
    {
        using var client = app.Anonymous();
        foreach (var header in new[] { "Basic !!!notbase64", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("nocolon")), "Bearer", "Bearer a.b.c", "Digest abc", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(":")) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/auth/token");
            request.Headers.TryAddWithoutValidation("Authorization", header);
            using var response = await client.SendAsync(request);
            await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        }
    }

    [Fact]
    public async Task Health_is_200()
    {
        using var client = app.Anonymous();
        using var response = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OpenApi_document_lists_every_path()
    {
        using var client = app.Anonymous();
        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name.TrimEnd('/')).ToHashSet();
        foreach (var expected in new[]
        {
            "/auth/register", "/auth/token", "/auth/key", "/auth/certificate/validate", "/auth/server-key",
            "/friends", "/friends/add", "/friend/remove", "/friends/remove", "/games",
            "/lobby", "/lobby/all", "/lobby/find", "/lobby/create", "/lobby/members", "/lobby/friends", "/lobby/matchmake", "/health",
        })
        {
            Assert.Contains(expected, paths);
        }
    }
}

public sealed class ConventionsTestsSqlite(SqliteApp app) : ConventionsTests(app), IClassFixture<SqliteApp>;

public sealed class ConventionsTestsPostgres(PostgresApp app) : ConventionsTests(app), IClassFixture<PostgresApp>;
