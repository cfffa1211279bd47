using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Paperclip.Backend.Data;
using Paperclip.Backend.Tests.Infrastructure;

namespace Paperclip.Backend.Tests;

/// <summary>
/// /auth/certificate/validate and /auth/server-key against the independent test vectors
/// (an RSA account certificate for Mario, id 1, and a server key and certificate) at their check time.
/// </summary>
public abstract class VectorsTests(Db db)
{
    private static readonly JsonElement Vectors =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "vectors.json"))).RootElement;

    [Fact]
    public async Task Vector_certificates_validate_at_the_check_time()
    {
        var account = Vectors.GetProperty("account");
        var server = Vectors.GetProperty("server");
        var checkTime = DateTimeOffset.Parse(Vectors.GetProperty("check_time").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        var serverKey = "-----BEGIN PRIVATE KEY-----\n" + server.GetProperty("private_key_pkcs8_b64").GetString() + "\n-----END PRIVATE KEY-----";
        await using var factory = await PaperclipFactory.CreateAsync(db, s => s["Paperclip:ServerKey"] = serverKey);
        factory.Time.SetUtcNow(checkTime);
        _ = factory.Server;
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var context = scope.ServiceProvider.GetRequiredService<PaperclipDbContext>();
            context.Accounts.Add(new Account
            {
                Id = account.GetProperty("account-id").GetInt64(),
                Username = account.GetProperty("username").GetString()!,
                NormalizedUsername = account.GetProperty("username").GetString()!.ToLowerInvariant(),
                PasswordHash = new byte[32],
                PasswordSalt = new byte[16],
                PasswordIterations = 100_000,
                PublicKey = Convert.FromBase64String(account.GetProperty("public_key_spki_b64").GetString()!),
                EncryptedPrivateKey = Convert.FromBase64String(account.GetProperty("encrypted_private_key_pkcs8_b64").GetString()!),
                CreatedAt = checkTime,
            });
            await context.SaveChangesAsync();
        }

        using var client = factory.CreateClient();
        var published = await client.GetFromJsonAsync<JsonElement>("/auth/server-key");
        Assert.Equal(server.GetProperty("public_key_spki_b64").GetString(), published.GetProperty("key").GetString());

        var accountResult = await ValidateAsync(client, account.GetProperty("certificate_b64").GetString()!);
        Assert.True(accountResult.GetProperty("valid").GetBoolean());
        Assert.Equal(1, accountResult.GetProperty("account-id").GetInt64());

        var forged = await ValidateAsync(client, account.GetProperty("forged_certificate_b64").GetString()!);
        Assert.False(forged.GetProperty("valid").GetBoolean());

        var serverResult = await ValidateAsync(client, server.GetProperty("certificate_b64").GetString()!);
        Assert.True(serverResult.GetProperty("valid").GetBoolean());
        Assert.Equal(JsonValueKind.Null, serverResult.GetProperty("account-id").ValueKind);

        // A day and more later, both are out of their validity.
        factory.Time.Advance(TimeSpan.FromDays(400));
        Assert.False((await ValidateAsync(client, account.GetProperty("certificate_b64").GetString()!)).GetProperty("valid").GetBoolean());
        Assert.False((await ValidateAsync(client, server.GetProperty("certificate_b64").GetString()!)).GetProperty("valid").GetBoolean());
    }

    private static async Task<JsonElement> ValidateAsync(HttpClient client, string certificate)
    {
        using var response = await client.PostAsJsonAsync("/auth/certificate/validate", new { certificate });
        response.EnsureSuccessStatusCode();
        return await response.JsonAsync();
    }
}

public sealed class VectorsTestsSqlite() : VectorsTests(Db.Sqlite);

public sealed class VectorsTestsPostgres() : VectorsTests(Db.Postgres);
