using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Paperclip.Backend.Endpoints;
using Paperclip.Backend.Tests.Infrastructure;
using Paperclip.GameHost;
using Paperclip.Protocol.Certificates;

namespace Paperclip.Backend.Tests;

/// <summary>
/// Cluster modes: a node refuses to start without the settings every node must share, naming
/// the key; API nodes certify game hosts' own keys for callers that hold the host secret.
/// </summary>
public sealed class ClusterModeTests
{
    private const string HostSecret = "a-host-secret-of-at-least-32-characters";

    private static void ApiNode(Dictionary<string, string?> s)
    {
        s["Paperclip:Mode"] = "Api";
        s["Paperclip:Cluster:HostSecret"] = HostSecret;
        s["Paperclip:Redis:Configuration"] = "127.0.0.1:6379";
        s["Paperclip:Auth:SigningKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        using var key = AccountKey.Generate();
        s["Paperclip:ServerKey"] = Convert.ToBase64String(key.ExportPkcs8PrivateKey());
    }

    private static void GameHostNode(Dictionary<string, string?> s)
    {
        s["Paperclip:Mode"] = "GameHost";
        s["Paperclip:Cluster:HostSecret"] = HostSecret;
        s["Paperclip:Cluster:ApiUrl"] = "http://127.0.0.1:5000";
        s["Paperclip:Redis:Configuration"] = "127.0.0.1:6379";
        s["Paperclip:Database:Provider"] = "Postgres";
        s["ConnectionStrings:Paperclip"] = "Host=127.0.0.1;Database=never-opened";
    }

    [Theory]
    [InlineData("Api", "Paperclip:Cluster:HostSecret", null)]
    [InlineData("Api", "Paperclip:Cluster:HostSecret", "too-short")]
    [InlineData("Api", "Paperclip:Redis:Configuration", null)]
    [InlineData("Api", "Paperclip:Database:Provider", "Sqlite")]
    [InlineData("Api", "ConnectionStrings:Paperclip", "")]
    [InlineData("Api", "Paperclip:Auth:SigningKey", null)]
    [InlineData("Api", "Paperclip:ServerKey", null)]
    [InlineData("GameHost", "Paperclip:Cluster:HostSecret", null)]
    [InlineData("GameHost", "Paperclip:Redis:Configuration", "")]
    [InlineData("GameHost", "Paperclip:Cluster:ApiUrl", null)]
    [InlineData("GameHost", "Paperclip:Cluster:ApiUrl", "127.0.0.1:5000")]
    [InlineData("GameHost", "Paperclip:ServerKey", "a root key on a game host")]
    [InlineData("GameHost", "Paperclip:Auth:SigningKey", "dG9rZW4ta2V5LW9mLWF0LWxlYXN0LTMyLWJ5dGVzLWxvbmc=")]
    [InlineData("GameHost", "Paperclip:Database:Provider", "Sqlite")]
    [InlineData("GameHost", "ConnectionStrings:Paperclip", "")]
    public async Task A_cluster_node_without_a_shared_setting_refuses_to_start_naming_the_key(string mode, string key, string? value)
    {
        await using var factory = await PaperclipFactory.CreateAsync(Db.Sqlite, s =>
        {
            if (mode == "Api")
            {
                ApiNode(s);
                s["Paperclip:Database:Provider"] = "Postgres";
                s["ConnectionStrings:Paperclip"] = "Host=127.0.0.1;Database=never-opened";
            }
            else
                GameHostNode(s);
            s[key] = value;
        });
        var failure = Assert.IsType<OptionsValidationException>(Unwrap(Record.Exception(() => factory.Server)));
        var message = Assert.Single(failure.Failures);
        Assert.StartsWith(key, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_api_node_process_without_its_secrets_stops_with_one_line_naming_each_key()
    {
        var directory = Directory.CreateTempSubdirectory("paperclip-cluster-").FullName;
        try
        {
            var (exitCode, output, error) = await ServerProcess.RunUntilExitAsync(directory, "--Paperclip:Mode=Api");
            Assert.Equal(1, exitCode);
            var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            Assert.StartsWith("Configuration error: ", line, StringComparison.Ordinal);
            foreach (var key in new[] { "Paperclip:Cluster:HostSecret", "Paperclip:Redis:Configuration", "Paperclip:Database:Provider", "Paperclip:Auth:SigningKey", "Paperclip:ServerKey" })
                Assert.Contains(key, line, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFiles(directory));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task An_api_node_certifies_a_hosts_own_key_only_for_the_host_secret()
    {
        await using var factory = await PaperclipFactory.CreateAsync(Db.Postgres, ApiNode);
        using var http = factory.CreateClient();
        using var hostKey = AccountKey.Generate();
        var hostPublicKey = AccountKey.ExportPublicKey(hostKey);

        async Task<HttpResponseMessage> PostAsync(string? secret, byte[] body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, HostCertificateEndpoints.Path) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            if (secret is not null)
                request.Headers.Add(HostCertificateEndpoints.SecretHeader, secret);
            return await http.SendAsync(request, TestContext.Current.CancellationToken);
        }

        foreach (var wrong in new[] { null, "", HostSecret + "x", HostSecret[..^1] })
        {
            using var refused = await PostAsync(wrong, hostPublicKey);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }
        foreach (var garbage in new[] { Array.Empty<byte>(), "not a key"u8.ToArray(), hostPublicKey[..^3] })
        {
            using var bad = await PostAsync(HostSecret, garbage);
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        }

        // What a Mode=GameHost process does: the certificate is for the host's key, signed by the server key.
        var issuer = new HttpHostCertificateIssuer(http, Options.Create(new PaperclipOptions
        {
            Cluster = { ApiUrl = http.BaseAddress!.ToString(), HostSecret = HostSecret },
        }));
        var certificate = await issuer.IssueAsync(hostPublicKey, TestContext.Current.CancellationToken);
        var serverKey = Convert.FromBase64String((await http.GetFromJsonAsync<JsonElement>("/auth/server-key", TestContext.Current.CancellationToken)).GetProperty("key").GetString()!);
        var now = factory.Time.GetUtcNow();
        Assert.True(ServerCertificate.Validate(certificate, serverKey, now));
        using var parsed = X509CertificateLoader.LoadCertificate(certificate);
        Assert.Equal(hostPublicKey, parsed.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.NotEqual(serverKey, hostPublicKey);
        // Short-lived: a day by default, then clients refuse it.
        Assert.False(ServerCertificate.Validate(certificate, serverKey, now.AddDays(1).AddMinutes(1)));

        // Not part of the public contract.
        var document = await http.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken);
        Assert.DoesNotContain("/internal", document, StringComparison.Ordinal);
    }

    private static Exception? Unwrap(Exception? exception) =>
        exception is AggregateException { InnerExceptions.Count: 1 } aggregate ? Unwrap(aggregate.InnerException) : exception;
}
