using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Paperclip.Backend.Operations;
using Paperclip.Backend.Tests.Infrastructure;
using Paperclip.Server;

namespace Paperclip.Backend.Tests;

/// <summary>/metrics, /health/live and /health/ready, the admin role and the console's API (its page is tested in a browser: GameHost tests).</summary>
public abstract class OperationsTests(AppFixture app)
{
    [Fact]
    public async Task Liveness_readiness_and_the_old_health_answer_healthy()
    {
        using var client = app.Anonymous();
        foreach (var path in new[] { "/health/live", "/health/ready", "/health" })
        {
            using var response = await client.GetAsync(path, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("Healthy", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            Assert.Contains("no-store", response.Headers.CacheControl?.ToString() ?? string.Empty, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_console_api_is_for_admins_only()
    {
        var user = await app.RegisterAsync("plain");
        using (var anonymous = app.Anonymous())
        using (var response = await anonymous.GetAsync("/console/api/lobbies", TestContext.Current.CancellationToken))
            await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        using var client = app.Client(user);
        foreach (var (method, path) in new[] { (HttpMethod.Get, "/console/api/me"), (HttpMethod.Get, "/console/api/lobbies"), (HttpMethod.Get, "/console/api/metrics"), (HttpMethod.Post, "/console/api/lobbies/1/close"), (HttpMethod.Post, "/console/api/lobbies/1/players/1/remove") })
        {
            using var response = await client.SendAsync(new HttpRequestMessage(method, path), TestContext.Current.CancellationToken);
            await response.AssertProblemAsync(HttpStatusCode.Forbidden);
        }
    }

    [Fact]
    public async Task The_role_granted_in_the_database_opens_the_console_and_revoking_it_closes_it_at_once()
    {
        var user = await app.RegisterAsync("granted");
        using var client = app.Client(user);
        await SetAdminAsync(user.Username, true);
        var me = await client.GetFromJsonAsync<JsonElement>("/console/api/me", TestContext.Current.CancellationToken);
        Assert.Equal(user.Username, me.GetProperty("username").GetString());

        var game = await app.AddGameAsync(maxPlayers: 2);
        using (var created = await client.PostAsJsonAsync("/lobby/create", new Dictionary<string, long> { ["game-id"] = game.Id }, TestContext.Current.CancellationToken))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var lobbies = await client.GetFromJsonAsync<JsonElement>("/console/api/lobbies", TestContext.Current.CancellationToken);
        var lobby = lobbies.EnumerateArray().Single(l => l.GetProperty("game").GetString() == game.Name);
        Assert.Equal([user.Username], lobby.GetProperty("reservations").EnumerateArray().Select(r => r.GetString()));
        var lobbyId = lobby.GetProperty("lobby-id").GetInt64();
        var text = lobbies.GetRawText();
        Assert.DoesNotContain("key", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("token", text, StringComparison.OrdinalIgnoreCase);

        using (var closed = await client.PostAsync($"/console/api/lobbies/{lobbyId}/close", null, TestContext.Current.CancellationToken))
            Assert.Equal(HttpStatusCode.NoContent, closed.StatusCode);
        using (var gone = await client.GetAsync($"/lobby/?lobby-id={lobbyId}", TestContext.Current.CancellationToken))
            await gone.AssertProblemAsync(HttpStatusCode.NotFound);
        using (var again = await client.PostAsync($"/console/api/lobbies/{lobbyId}/close", null, TestContext.Current.CancellationToken))
            await again.AssertProblemAsync(HttpStatusCode.NotFound);

        await SetAdminAsync(user.Username, false);
        using var refused = await client.GetAsync("/console/api/me", TestContext.Current.CancellationToken);
        await refused.AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task The_console_page_is_served_with_its_scripts_and_a_strict_content_security_policy()
    {
        using var client = app.Anonymous();
        using var page = await client.GetAsync("/console", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("<script src=\"/console/console.js\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http", html.Replace("http-equiv", "", StringComparison.Ordinal), StringComparison.Ordinal); // nothing from elsewhere
        var policy = string.Join(' ', page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.False(page.Headers.Contains("Set-Cookie"));

        using var script = await client.GetAsync("/console/console.js", TestContext.Current.CancellationToken);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Contains("/console/api/lobbies", await script.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        using var missing = await client.GetAsync("/console/other.js", TestContext.Current.CancellationToken);
        await missing.AssertProblemAsync(HttpStatusCode.NotFound);
    }

    private async Task SetAdminAsync(string username, bool isAdmin)
    {
        await using var scope = app.Factory.Services.CreateAsyncScope();
        Assert.True(await scope.ServiceProvider.GetRequiredService<AdminAccess>().SetAdminAsync(username, isAdmin, TestContext.Current.CancellationToken));
    }
}

public sealed class OperationsTestsSqlite(SqliteApp app) : OperationsTests(app), IClassFixture<SqliteApp>;

public sealed class OperationsTestsPostgres(PostgresApp app) : OperationsTests(app), IClassFixture<PostgresApp>;

/// <summary>The admin role by configuration, and the <c>admin</c> command of the server.</summary>
public sealed class AdminRoleTests
{
    [Fact]
    public async Task An_account_named_in_the_configuration_is_an_admin_and_no_account_is_one_by_default()
    {
        await using var factory = await PaperclipFactory.CreateAsync(Db.Sqlite, s => s["Paperclip:Admins:0"] = "Boss");
        using var anonymous = factory.CreateClient();
        using (var registered = await anonymous.PostAsJsonAsync("/auth/register", new { username = "boss", password = "Secret-123" }, TestContext.Current.CancellationToken))
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        using (var registered = await anonymous.PostAsJsonAsync("/auth/register", new { username = "worker", password = "Secret-123" }, TestContext.Current.CancellationToken))
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);

        using var boss = factory.CreateClient();
        boss.DefaultRequestHeaders.Authorization = AppFixture.Basic("boss", "Secret-123");
        using (var response = await boss.GetAsync("/console/api/me", TestContext.Current.CancellationToken))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var worker = factory.CreateClient();
        worker.DefaultRequestHeaders.Authorization = AppFixture.Basic("worker", "Secret-123");
        using (var response = await worker.GetAsync("/console/api/me", TestContext.Current.CancellationToken))
            await response.AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task The_admin_command_grants_lists_and_revokes_the_role_in_the_configured_database()
    {
        var data = Directory.CreateTempSubdirectory("paperclip-admin-").FullName;
        try
        {
            string[] settings = [$"--Paperclip:DataDirectory={data}", $"--ConnectionStrings:Paperclip=Data Source={Path.Combine(data, "p.db")}", "--Paperclip:Demo=true", "--Paperclip:LogDirectory=", "--Serilog:MinimumLevel:Default=Warning"];
            Assert.Equal(0, await RunAsync(["grant", "Peach", .. settings], out var granted));
            Assert.Contains("Peach is an admin.", granted, StringComparison.Ordinal);
            Assert.Equal(0, await RunAsync(["list", .. settings], out var listed));
            Assert.Equal(["Peach"], listed.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            Assert.Equal(1, await RunAsync(["grant", "Nobody", .. settings], out _));
            Assert.Equal(0, await RunAsync(["revoke", "peach", .. settings], out _));
            Assert.Equal(0, await RunAsync(["list", .. settings], out listed));
            Assert.Empty(listed.Trim());
            Assert.Equal(2, await RunAsync(["promote"], out _));
            Assert.Equal(2, await RunAsync(["list", "--Paperclip:Mode=GameHost", .. settings], out _));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }

    private static Task<int> RunAsync(string[] args, out string output)
    {
        var writer = new StringWriter();
        var task = AdminCommand.RunAsync(args, writer, TextWriter.Null);
        task.GetAwaiter().GetResult();
        output = writer.ToString();
        return task;
    }
}

/// <summary>
/// <c>/metrics</c> of a fresh server, alone in the test process: OpenTelemetry exports every
/// meter of a name in the process, so another server running meanwhile would mix its figures in.
/// </summary>
[Collection(nameof(MetricsEndpointTests))]
public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task Metrics_are_prometheus_text_with_logins_by_result_matchmakes_and_lobbies()
    {
        await using var factory = await PaperclipFactory.CreateAsync(Db.Sqlite);
        var token = TestContext.Current.CancellationToken;
        using var anonymous = factory.CreateClient();
        using (var registered = await anonymous.PostAsJsonAsync("/auth/register", new { username = "meter", password = "Secret-123" }, token))
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        using var wrong = factory.CreateClient();
        wrong.DefaultRequestHeaders.Authorization = AppFixture.Basic("meter", "wrong password");
        using (var refused = await wrong.GetAsync("/auth/token", token))
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        using var user = factory.CreateClient();
        user.DefaultRequestHeaders.Authorization = AppFixture.Basic("meter", "Secret-123");
        using (var matchmade = await user.PostAsJsonAsync("/lobby/matchmake", new Dictionary<string, string> { ["game-name"] = "RPS" }, token))
            Assert.Equal(HttpStatusCode.Created, matchmade.StatusCode);

        using var response = await anonymous.GetAsync("/metrics", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        var text = await response.Content.ReadAsStringAsync(token);
        Exactly(text, 1, "paperclip_backend_logins_total", "result=\"succeeded\"");
        Exactly(text, 1, "paperclip_backend_logins_total", "result=\"failed\"");
        Exactly(text, 1, "paperclip_backend_matchmakes_total", "result=\"created\"");
        Exactly(text, 1, "paperclip_backend_lobbies", "state=\"empty\"");
        Exactly(text, 0, "paperclip_backend_lobbies", "state=\"full\"");
        Exactly(text, 1, "paperclip_backend_lobby_reservations", null);
        Exactly(text, 0, "paperclip_backend_lobby_members", null);
        // The runtime's and ASP.NET Core's own instruments are exported too.
        Assert.Contains("\ndotnet_gc_heap_total_allocated_bytes_total", text, StringComparison.Ordinal);
        Assert.Contains("\nhttp_server_request_duration_seconds_bucket", text, StringComparison.Ordinal);
    }

    private static void Exactly(string text, double expected, string name, string? label)
    {
        var values = text.Split('\n')
            .Where(line => line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal))
            .Where(line => label is null || line.Contains(label, StringComparison.Ordinal))
            .Select(line => double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture))
            .ToList();
        Assert.True(values.Count == 1 && values[0] == expected,
            $"{name} {label}: [{string.Join(", ", values)}], expected {expected}:\n{string.Join('\n', text.Split('\n').Where(l => l.StartsWith("paperclip", StringComparison.Ordinal)))}");
    }
}

[CollectionDefinition(nameof(MetricsEndpointTests), DisableParallelization = true)]
public sealed class MetricsEndpointTestsAlone
{
}
