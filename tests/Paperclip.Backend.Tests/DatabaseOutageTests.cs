using System.Net;
using System.Net.Http.Json;
using Paperclip.Backend.Tests.Infrastructure;

namespace Paperclip.Backend.Tests;

/// <summary>PostgreSQL stops and starts under a running server: 503 problem+json meanwhile, never a 500 or a wrong 200, and it recovers by itself.</summary>
public sealed class DatabaseOutageTests
{
    [Fact]
    public async Task While_PostgreSQL_is_stopped_the_API_answers_503_and_recovers_by_itself_when_it_is_back()
    {
        await using var postgres = await PostgresCluster.StartPrivateAsync();
        var database = await postgres.CreateDatabaseAsync("outage");
        await using var factory = await PaperclipFactory.CreateAsync(Db.Sqlite, s =>
        {
            s["Paperclip:Database:Provider"] = "Postgres";
            s["ConnectionStrings:Paperclip"] = database + ";Timeout=5";
            s["Paperclip:Auth:CredentialCacheSeconds"] = "0";
        });
        using var http = factory.CreateClient();
        var token = TestContext.Current.CancellationToken;
        using (var created = await http.PostAsJsonAsync("/auth/register", new { username = "mario", password = "ItsAMe123" }, token))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        http.DefaultRequestHeaders.Authorization = AppFixture.Basic("mario", "ItsAMe123");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/friends/", token)).StatusCode);

        await postgres.StopServerAsync();
        foreach (var (method, path, body) in new (string, string, object?)[]
        {
            ("GET", "/friends/", null),
            ("GET", "/auth/token", null),
            ("POST", "/auth/register", new { username = "luigi", password = "Mamma-mia1" }),
            ("GET", "/health", null),
        })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = body is null ? null : JsonContent.Create(body) };
            using var response = await http.SendAsync(request, token);
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{method} {path} answered {(int)response.StatusCode} while PostgreSQL was down");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        await postgres.StartServerAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        HttpStatusCode status;
        while ((status = (await http.GetAsync("/friends/", token)).StatusCode) != HttpStatusCode.OK)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.True(DateTime.UtcNow < deadline, "The API did not recover within 60 s of PostgreSQL's start.");
            await Task.Delay(100, token);
        }
        // Nothing was lost and nothing half-written: Luigi's refused registration did not happen.
        using (var again = await http.PostAsJsonAsync("/auth/register", new { username = "luigi", password = "Mamma-mia1" }, token))
            Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/auth/token", token)).StatusCode);
    }
}
