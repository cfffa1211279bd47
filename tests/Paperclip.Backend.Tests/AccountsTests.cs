using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Paperclip.Backend.Security;
using Paperclip.Backend.Tests.Infrastructure;
using Paperclip.Protocol.Certificates;
using static Paperclip.Backend.Tests.Infrastructure.Http;

namespace Paperclip.Backend.Tests;

public abstract class AccountsTests(AppFixture app)
{
    [Fact]
    public async Task Register_creates_account_and_returns_201()
    {
        using var client = app.Anonymous();
        var name = app.NewName("reg");
        using var response = await client.PostAsJsonAsync("/auth/register", new { username = name, password = "pw-123456" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.True(body.GetProperty("account-id").GetInt64() > 0);
        Assert.Equal(name, body.GetProperty("username").GetString());
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"password\":\"x\"}")]
    [InlineData("{\"username\":\"someone\"}")]
    [InlineData("{\"username\":\"\",\"password\":\"x\"}")]
    [InlineData("{\"username\":\"someone\",\"password\":\"\"}")]
    [InlineData("{\"username\":null,\"password\":\"x\"}")]
    [InlineData("{\"username\":\"has space\",\"password\":\"x\"}")]
    [InlineData("{\"username\":\"abcdefghijklmnopqrstuvwxyz0123456\",\"password\":\"x\"}")]
    [InlineData("{\"username\":\"b@d\",\"password\":\"x\"}")]
    [InlineData("{\"username\":42,\"password\":\"x\"}")]
    [InlineData("{\"username\":\"someone\",\"password\":[1]}")]
    public async Task Register_rejects_missing_empty_bad_or_mistyped_fields_with_400(string json)
    {
        using var client = app.Anonymous();
        using var response = await client.PostAsync("/auth/register", Json(json));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Register_without_body_is_400()
    {
        using var client = app.Anonymous();
        using var response = await client.PostAsync("/auth/register", Json(string.Empty));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Register_taken_username_is_409_case_insensitively()
    {
        var user = await app.RegisterAsync("Taken");
        using var client = app.Anonymous();
        using var same = await client.PostAsJsonAsync("/auth/register", new { username = user.Username, password = "x1" });
        await same.AssertProblemAsync(HttpStatusCode.Conflict);
        using var upper = await client.PostAsJsonAsync("/auth/register", new { username = user.Username.ToUpperInvariant(), password = "x1" });
        await upper.AssertProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Token_with_password_token_basic_and_bearer()
    {
        var user = await app.RegisterAsync("tok");
        using var client = app.Anonymous();

        client.DefaultRequestHeaders.Authorization = AppFixture.Basic(user.Username, user.Password);
        var issued = await client.GetFromJsonAsync<System.Text.Json.JsonElement>("/auth/token");
        Assert.Equal(600, issued.GetProperty("expires-in").GetInt32());
        var token = issued.GetProperty("token").GetString()!;

        // Basic base64(token:) — the original design's form.
        client.DefaultRequestHeaders.Authorization = AppFixture.Basic(token, string.Empty);
        using (var response = await client.GetAsync("/auth/token"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using (var response = await client.GetAsync("/auth/token"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Case-insensitive user name on login.
        client.DefaultRequestHeaders.Authorization = AppFixture.Basic(user.Username.ToUpperInvariant(), user.Password);
        using (var response = await client.GetAsync("/auth/token"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Theory]
    [InlineData("/auth/token")]
    [InlineData("/auth/key")]
    [InlineData("/friends/")]
    [InlineData("/games/")]
    [InlineData("/lobby/all")]
    [InlineData("/lobby/members")]
    [InlineData("/lobby/friends")]
    public async Task Auth_endpoints_without_credentials_are_401_with_WWW_Authenticate(string path)
    {
        using var client = app.Anonymous();
        using var response = await client.GetAsync(path);
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        var schemes = response.Headers.WwwAuthenticate.Select(h => h.Scheme).ToList();
        Assert.Contains("Basic", schemes);
        Assert.Contains("Bearer", schemes);
    }

    [Fact]
    public async Task Key_returns_the_password_encrypted_private_key_matching_the_registered_public_key()
    {
        var user = await app.RegisterAsync("key");
        using var client = app.Client(user);
        var body = await client.GetFromJsonAsync<System.Text.Json.JsonElement>("/auth/key");
        Assert.Equal(user.Id, body.GetProperty("account-id").GetInt64());
        var encrypted = Convert.FromBase64String(body.GetProperty("key").GetString()!);
        Assert.False(AccountKey.TryImportEncrypted(encrypted, "wrong password", out _));
        Assert.True(AccountKey.TryImportEncrypted(encrypted, user.Password, out var key));
        using (key)
        {
            Assert.IsAssignableFrom<ECDsa>(key);
            var certificate = AccountCertificate.Create(key!, user.Id, user.Username, app.Factory.Time.GetUtcNow().AddMinutes(-1), TimeSpan.FromHours(1));
            using var anonymous = app.Anonymous();
            using var response = await anonymous.PostAsJsonAsync("/auth/certificate/validate", new { certificate = Convert.ToBase64String(certificate) });
            var result = await response.JsonAsync();
            Assert.True(result.GetProperty("valid").GetBoolean());
            Assert.Equal(user.Id, result.GetProperty("account-id").GetInt64());
        }
    }

    [Fact]
    public async Task Certificate_validate_accepts_GET_with_query_and_with_body()
    {
        var user = await app.RegisterAsync("certq");
        var certificate = await CertificateForAsync(user, app.Factory.Time.GetUtcNow().AddMinutes(-1), TimeSpan.FromHours(1));
        using var client = app.Anonymous();
        using (var response = await client.GetAsync("/auth/certificate/validate?certificate=" + Uri.EscapeDataString(Convert.ToBase64String(certificate))))
        {
            var result = await response.JsonAsync();
            Assert.True(result.GetProperty("valid").GetBoolean(), result.ToString());
            Assert.Equal(user.Id, result.GetProperty("account-id").GetInt64());
        }

        // Unescaped '+' in a query turns into ' ': still accepted.
        using (var response = await client.GetAsync("/auth/certificate/validate?certificate=" + Convert.ToBase64String(certificate).Replace("/", "%2F", StringComparison.Ordinal).Replace("=", "%3D", StringComparison.Ordinal)))
        {
            Assert.True((await response.JsonAsync()).GetProperty("valid").GetBoolean());
        }

        using var request = Request(HttpMethod.Get, "/auth/certificate/validate", $"{{\"certificate\":\"{Convert.ToBase64String(certificate)}\"}}");
        using (var response = await client.SendAsync(request))
        {
            Assert.True((await response.JsonAsync()).GetProperty("valid").GetBoolean());
        }
    }

    [Fact]
    public async Task Certificate_validate_reports_invalid_certificates_as_valid_false()
    {
        var user = await app.RegisterAsync("certbad");
        var now = app.Factory.Time.GetUtcNow();
        using var client = app.Anonymous();

        // Expired.
        var expired = await CertificateForAsync(user, now.AddHours(-3), TimeSpan.FromHours(1));
        Assert.False(await ValidAsync(client, expired));

        // Not yet valid.
        var future = await CertificateForAsync(user, now.AddHours(1), TimeSpan.FromHours(1));
        Assert.False(await ValidAsync(client, future));

        // Self-signed by another key but claiming this account.
        using (var other = AccountKey.Generate())
        {
            var forged = AccountCertificate.Create(other, user.Id, user.Username, now.AddMinutes(-1), TimeSpan.FromHours(1));
            Assert.False(await ValidAsync(client, forged));
        }

        // An account that does not exist.
        using (var other = AccountKey.Generate())
        {
            var ghost = AccountCertificate.Create(other, 987654321, "ghost", now.AddMinutes(-1), TimeSpan.FromHours(1));
            Assert.False(await ValidAsync(client, ghost));
        }

        // A server certificate signed by a key that is not the backend's.
        using (var other = AccountKey.Generate())
        {
            Assert.False(await ValidAsync(client, ServerCertificate.Create(other, now.AddMinutes(-1), TimeSpan.FromHours(1))));
        }
    }

    [Fact]
    public async Task Certificate_validate_accepts_server_certificates_of_the_backend_key_with_null_account_id()
    {
        var serverKey = app.Service<ServerKeyService>();
        var certificate = serverKey.CreateCertificate(app.Factory.Time.GetUtcNow().AddMinutes(-1), TimeSpan.FromHours(1));
        using var client = app.Anonymous();
        using var response = await client.PostAsJsonAsync("/auth/certificate/validate", new { certificate = Convert.ToBase64String(certificate) });
        var result = await response.JsonAsync();
        Assert.True(result.GetProperty("valid").GetBoolean());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, result.GetProperty("account-id").ValueKind);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"certificate\":\"\"}")]
    [InlineData("{\"certificate\":\"not base64 !!\"}")]
    [InlineData("{\"certificate\":\"AAAA\"}")]
    [InlineData("{\"certificate\":17}")]
    public async Task Certificate_validate_rejects_missing_or_undecodable_with_400(string json)
    {
        using var client = app.Anonymous();
        using var response = await client.PostAsync("/auth/certificate/validate", Json(json));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        using var get = await client.GetAsync("/auth/certificate/validate");
        await get.AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Server_key_is_the_backends_public_key()
    {
        using var client = app.Anonymous();
        var body = await client.GetFromJsonAsync<System.Text.Json.JsonElement>("/auth/server-key");
        var key = Convert.FromBase64String(body.GetProperty("key").GetString()!);
        Assert.Equal(app.Service<ServerKeyService>().PublicKey, key);
        using var ecdsa = ECDsa.Create();
        ecdsa.ImportSubjectPublicKeyInfo(key, out _);
    }

    private async Task<byte[]> CertificateForAsync(TestUser user, DateTimeOffset notBefore, TimeSpan validity)
    {
        using var client = app.Client(user);
        var body = await client.GetFromJsonAsync<System.Text.Json.JsonElement>("/auth/key");
        Assert.True(AccountKey.TryImportEncrypted(Convert.FromBase64String(body.GetProperty("key").GetString()!), user.Password, out var key));
        using (key)
        {
            return AccountCertificate.Create(key!, user.Id, user.Username, notBefore, validity);
        }
    }

    private static async Task<bool> ValidAsync(HttpClient client, byte[] certificate)
    {
        using var response = await client.PostAsJsonAsync("/auth/certificate/validate", new { certificate = Convert.ToBase64String(certificate) });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        var valid = body.GetProperty("valid").GetBoolean();
        if (!valid)
        {
            Assert.Equal(System.Text.Json.JsonValueKind.Null, body.GetProperty("account-id").ValueKind);
        }

        return valid;
    }
}

public sealed class AccountsTestsSqlite(SqliteApp app) : AccountsTests(app), IClassFixture<SqliteApp>;

public sealed class AccountsTestsPostgres(PostgresApp app) : AccountsTests(app), IClassFixture<PostgresApp>;
