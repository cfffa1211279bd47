using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Paperclip.Backend.Data;
using Paperclip.Backend.Security;

namespace Paperclip.Backend.Tests.Infrastructure;

/// <summary>One running server per test class and database.</summary>
public abstract class AppFixture : IAsyncLifetime
{
    private static int _gameCounter;
    private int _counter;

    public PaperclipFactory Factory { get; private set; } = null!;

    public abstract Db Database { get; }

    /// <summary>Settings this fixture changes.</summary>
    protected virtual void Configure(Dictionary<string, string?> settings)
    {
    }

    public async ValueTask InitializeAsync()
    {
        Factory = await PaperclipFactory.CreateAsync(Database, Configure);
        _ = Factory.Server;
    }

    public async ValueTask DisposeAsync()
    {
        await Factory.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    public T Service<T>()
        where T : notnull => Factory.Services.GetRequiredService<T>();

    public HttpClient Anonymous() => Factory.CreateClient();

    /// <summary>A unique user name for this fixture's server.</summary>
    public string NewName(string prefix) => $"{prefix}{Interlocked.Increment(ref _counter)}";

    /// <summary>Registers a new account through the API.</summary>
    public async Task<TestUser> RegisterAsync(string prefix, string password = "Secret-123")
    {
        var username = NewName(prefix);
        using var client = Anonymous();
        using var response = await client.PostAsJsonAsync("/auth/register", new { username, password });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = body.GetProperty("account-id").GetInt64();
        using var tokenClient = Anonymous();
        tokenClient.DefaultRequestHeaders.Authorization = Basic(username, password);
        var token = (await tokenClient.GetFromJsonAsync<JsonElement>("/auth/token")).GetProperty("token").GetString()!;
        return new TestUser(id, username, password, token);
    }

    /// <summary>Adds a game to the catalogue (so that a test has lobbies of its own).</summary>
    public async Task<Game> AddGameAsync(int maxPlayers, int minPlayers = 1)
    {
        var id = 1000 + Interlocked.Increment(ref _gameCounter);
        var game = new Game { Id = id, Name = $"Game{id}", MinPlayers = minPlayers, MaxPlayers = maxPlayers };
        await using var scope = Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PaperclipDbContext>();
        db.Games.Add(game);
        await db.SaveChangesAsync();
        return game;
    }

    /// <summary>Inserts accounts straight into the database (no PBKDF2) and mints their tokens with the server's key.</summary>
    public async Task<List<TestUser>> InsertAccountsAsync(string prefix, int count)
    {
        var accounts = Enumerable.Range(0, count).Select(_ => NewName(prefix)).Select(name => new Account
        {
            Username = name,
            NormalizedUsername = name.ToLowerInvariant(),
            PasswordHash = new byte[32],
            PasswordSalt = new byte[16],
            PasswordIterations = 100_000,
            PublicKey = [1],
            EncryptedPrivateKey = [1],
            CreatedAt = Factory.Time.GetUtcNow(),
        }).ToList();
        await using (var scope = Factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PaperclipDbContext>();
            db.Accounts.AddRange(accounts);
            await db.SaveChangesAsync();
        }

        var tokens = Service<TokenService>();
        return accounts.Select(a => new TestUser(a.Id, a.Username, string.Empty, tokens.Issue(a.Id, a.Username).Token)).ToList();
    }

    /// <summary>A client that sends <c>Authorization: Bearer</c> with the user's token.</summary>
    public HttpClient Client(TestUser user)
    {
        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", user.Token);
        return client;
    }

    public static AuthenticationHeaderValue Basic(string username, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}")));
}

public sealed record TestUser(long Id, string Username, string Password, string Token);

public sealed class SqliteApp : AppFixture
{
    public override Db Database => Db.Sqlite;
}

public sealed class PostgresApp : AppFixture
{
    public override Db Database => Db.Postgres;
}

/// <summary>Helpers to read answers.</summary>
public static class Http
{
    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<JsonElement>();

    /// <summary>Asserts a problem+json answer with this status and returns its body.</summary>
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal((int)status, body.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("title").GetString()));
        return body;
    }

    public static StringContent Json(string raw) => new(raw, Encoding.UTF8, "application/json");

    /// <summary>A request with a JSON body (any method, GET included).</summary>
    public static HttpRequestMessage Request(HttpMethod method, string uri, string? json = null) =>
        new(method, uri) { Content = json is null ? null : Json(json) };
}
