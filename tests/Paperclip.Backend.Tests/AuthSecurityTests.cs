using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Paperclip.Backend.Tests.Infrastructure;

namespace Paperclip.Backend.Tests;

/// <summary>Tokens and throttling; each test gets a fresh server because it moves the clock or trips the throttle.</summary>
public abstract class AuthSecurityTests : IAsyncLifetime
{
    private AppFixture _app = null!;

    protected abstract AppFixture CreateFixture();

    public async ValueTask InitializeAsync()
    {
        _app = CreateFixture();
        await _app.InitializeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Expired_token_is_401_with_zero_clock_skew()
    {
        var user = await _app.RegisterAsync("exp");
        using var client = _app.Client(user);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/friends/")).StatusCode);
        _app.Factory.Time.Advance(TimeSpan.FromSeconds(599));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/friends/")).StatusCode);
        _app.Factory.Time.Advance(TimeSpan.FromSeconds(1));
        await AssertUnauthorizedAsync(client);

        // The Basic token: form expires too.
        using var basic = _app.Anonymous();
        basic.DefaultRequestHeaders.Authorization = AppFixture.Basic(user.Token, string.Empty);
        await AssertUnauthorizedAsync(basic);
    }

    [Fact]
    public async Task Token_signed_with_another_key_is_401()
    {
        var user = await _app.RegisterAsync("oth");
        var now = _app.Factory.Time.GetUtcNow().UtcDateTime;
        var forged = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "paperclip",
            Audience = "paperclip",
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(10),
            Claims = new Dictionary<string, object> { ["sub"] = user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), ["name"] = user.Username },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(64)) { KeyId = "paperclip" }, SecurityAlgorithms.HmacSha256),
        });
        await AssertUnauthorizedAsync(Bearer(forged));
    }

    [Fact]
    public async Task Alg_none_token_is_401()
    {
        var user = await _app.RegisterAsync("none");
        var parts = user.Token.Split('.');
        var header = Base64Url("{\"alg\":\"none\",\"typ\":\"JWT\"}");
        await AssertUnauthorizedAsync(Bearer($"{header}.{parts[1]}."));
        await AssertUnauthorizedAsync(Bearer($"{header}.{parts[1]}.{parts[2]}"));
    }

    [Fact]
    public async Task Tampered_token_is_401()
    {
        var user = await _app.RegisterAsync("tam");
        var other = await _app.RegisterAsync("tam");
        var parts = user.Token.Split('.');
        var payload = JsonDocument.Parse(Base64UrlDecode(parts[1])).RootElement;
        var changed = JsonSerializer.Serialize(payload.EnumerateObject().ToDictionary(
            p => p.Name,
            p => p.Name == "sub" ? (object)other.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) : p.Value));
        await AssertUnauthorizedAsync(Bearer($"{parts[0]}.{Base64Url(changed)}.{parts[2]}"));

        // A flipped signature bit.
        var signature = Base64UrlDecode(parts[2]);
        signature[0] ^= 1;
        await AssertUnauthorizedAsync(Bearer($"{parts[0]}.{parts[1]}.{Base64Url(signature)}"));
    }

    [Fact]
    public async Task Token_with_a_stronger_algorithm_than_configured_is_401()
    {
        var user = await _app.RegisterAsync("alg");
        var key = await File.ReadAllTextAsync(Path.Combine(_app.Factory.DataDirectory, "secrets", "jwt-signing.key"));
        var now = _app.Factory.Time.GetUtcNow().UtcDateTime;
        var token = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "paperclip",
            Audience = "paperclip",
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(10),
            Claims = new Dictionary<string, object> { ["sub"] = user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Convert.FromBase64String(key.Trim())) { KeyId = "paperclip" }, SecurityAlgorithms.HmacSha512),
        });
        await AssertUnauthorizedAsync(Bearer(token));
    }

    [Fact]
    public async Task Brute_force_is_429_with_Retry_After_until_the_window_ends()
    {
        var user = await _app.RegisterAsync("bf");
        using var client = _app.Anonymous();
        for (var i = 0; i < 5; i++)
        {
            client.DefaultRequestHeaders.Authorization = AppFixture.Basic(user.Username, "wrong" + i);
            using var response = await client.GetAsync("/auth/token");
            await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        }

        client.DefaultRequestHeaders.Authorization = AppFixture.Basic(user.Username, "wrong again");
        using (var throttled = await client.GetAsync("/auth/token"))
        {
            await throttled.AssertProblemAsync(HttpStatusCode.TooManyRequests);
            var retryAfter = throttled.Headers.RetryAfter?.Delta;
            Assert.NotNull(retryAfter);
            Assert.InRange(retryAfter.Value.TotalSeconds, 1, 60);
        }

        // Even the right password waits; tokens keep working.
        client.DefaultRequestHeaders.Authorization = AppFixture.Basic(user.Username, user.Password);
        using (var right = await client.GetAsync("/auth/token"))
        {
            await right.AssertProblemAsync(HttpStatusCode.TooManyRequests);
        }

        using var bearer = _app.Client(user);
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync("/friends/")).StatusCode);

        _app.Factory.Time.Advance(TimeSpan.FromSeconds(61));
        using (var later = await client.GetAsync("/auth/token"))
        {
            Assert.Equal(HttpStatusCode.OK, later.StatusCode);
        }
    }

    [Fact]
    public async Task Failures_per_address_are_throttled_across_user_names_and_a_success_does_not_reset_them()
    {
        var victim = await _app.RegisterAsync("ipv");
        var attacker = IPAddress.Parse("203.0.113.7");
        using var fromAttacker = _app.Factory.CreateClient(attacker);
        for (var i = 0; i < 4; i++)
        {
            fromAttacker.DefaultRequestHeaders.Authorization = AppFixture.Basic($"guess{i}", "pw");
            using var response = await fromAttacker.GetAsync("/auth/token");
            await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        }

        // A success from the same address does not reset the address's counter.
        fromAttacker.DefaultRequestHeaders.Authorization = AppFixture.Basic(victim.Username, victim.Password);
        Assert.Equal(HttpStatusCode.OK, (await fromAttacker.GetAsync("/auth/token")).StatusCode);
        fromAttacker.DefaultRequestHeaders.Authorization = AppFixture.Basic("guess-last", "pw");
        await (await fromAttacker.GetAsync("/auth/token")).AssertProblemAsync(HttpStatusCode.Unauthorized);

        fromAttacker.DefaultRequestHeaders.Authorization = AppFixture.Basic("guess-more", "pw");
        using (var throttled = await fromAttacker.GetAsync("/auth/token"))
        {
            await throttled.AssertProblemAsync(HttpStatusCode.TooManyRequests);
            Assert.NotNull(throttled.Headers.RetryAfter);
        }

        // The victim from another address is not locked out.
        using var fromVictim = _app.Factory.CreateClient(IPAddress.Parse("198.51.100.20"));
        fromVictim.DefaultRequestHeaders.Authorization = AppFixture.Basic(victim.Username, victim.Password);
        Assert.Equal(HttpStatusCode.OK, (await fromVictim.GetAsync("/auth/token")).StatusCode);
    }

    [Fact]
    public async Task Unknown_user_and_wrong_password_get_the_same_answer()
    {
        var user = await _app.RegisterAsync("same");
        using var client = _app.Anonymous();
        client.DefaultRequestHeaders.Authorization = AppFixture.Basic(user.Username, "not-the-password");
        using var wrong = await client.GetAsync("/auth/token");
        client.DefaultRequestHeaders.Authorization = AppFixture.Basic("no-such-user-xyz", "not-the-password");
        using var unknown = await client.GetAsync("/auth/token");
        var a = await wrong.AssertProblemAsync(HttpStatusCode.Unauthorized);
        var b = await unknown.AssertProblemAsync(HttpStatusCode.Unauthorized);
        foreach (var field in new[] { "type", "title", "status", "detail" })
        {
            Assert.Equal(a.GetProperty(field).GetRawText(), b.GetProperty(field).GetRawText());
        }

        Assert.Equal(wrong.Headers.WwwAuthenticate.ToString(), unknown.Headers.WwwAuthenticate.ToString());
    }

    private HttpClient Bearer(string token)
    {
        var client = _app.Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static async Task AssertUnauthorizedAsync(HttpClient client)
    {
        using (client)
        {
            using var response = await client.GetAsync("/friends/");
            await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
            Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
            Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Basic");
        }
    }

    private static string Base64Url(string text) => Base64Url(Encoding.UTF8.GetBytes(text));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] Base64UrlDecode(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '='));
    }
}

public sealed class AuthSecurityTestsSqlite : AuthSecurityTests
{
    protected override AppFixture CreateFixture() => new SqliteApp();
}

public sealed class AuthSecurityTestsPostgres : AuthSecurityTests
{
    protected override AppFixture CreateFixture() => new PostgresApp();
}
