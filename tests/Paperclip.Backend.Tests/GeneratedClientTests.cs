using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Abstractions.Serialization;
using Microsoft.Kiota.Http.HttpClientLibrary;
using Paperclip.Backend.Client;
using Paperclip.Backend.Client.Models;
using Paperclip.Backend.Tests.Infrastructure;

namespace Paperclip.Backend.Tests;

/// <summary>
/// The Kiota client in GeneratedClient/ is what Kiota makes of the document the server serves, and
/// it works against the server. It is committed (reviewable in diffs, and the repository builds
/// without a server or a code generator running at build time); the first test regenerates it and
/// fails when anything differs, so a change to the API must come with the regenerated client.
/// Set PAPERCLIP_UPDATE_GENERATED_CLIENT=1 to rewrite GeneratedClient/ (the test still fails once).
/// </summary>
public sealed class GeneratedClientTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    private const string GeneratedFolder = "tests/Paperclip.Backend.Tests/GeneratedClient";

    /// <summary>The Kiota command line; docs/api.md shows the same for integrators.</summary>
    private static readonly string[] KiotaArguments =
    [
        "kiota", "generate", "--language", "CSharp", "--namespace-name", "Paperclip.Backend.Client",
        "--class-name", "PaperclipApiClient", "--exclude-backward-compatible", "--clean-output", "--log-level", "Warning",
    ];

    [Fact]
    public async Task The_committed_client_is_what_Kiota_generates_from_the_served_document()
    {
        var root = RepositoryRoot();
        var work = Directory.CreateTempSubdirectory("paperclip-kiota-").FullName;
        try
        {
            using var http = app.Anonymous();
            var document = Path.Combine(work, "openapi.json");
            await File.WriteAllTextAsync(document, await http.GetStringAsync("/openapi/v1.json"));
            var output = Path.Combine(work, "client");
            await DotnetAsync(root, "tool", "restore");
            await DotnetAsync(root, [.. KiotaArguments, "--openapi", document, "--output", output]);

            var committed = Path.Combine(root, GeneratedFolder);
            var expected = SourceFiles(output);
            var actual = SourceFiles(committed);
            var differences = expected.Keys.Union(actual.Keys).Order(StringComparer.Ordinal)
                .Where(file => !expected.TryGetValue(file, out var e) || !actual.TryGetValue(file, out var a) || e != a)
                .ToList();
            if (differences.Count > 0 && Environment.GetEnvironmentVariable("PAPERCLIP_UPDATE_GENERATED_CLIENT") == "1")
            {
                Directory.Delete(committed, recursive: true);
                foreach (var (file, text) in expected)
                {
                    var target = Path.Combine(committed, file);
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    await File.WriteAllTextAsync(target, text);
                }
            }

            Assert.True(
                differences.Count == 0,
                $"{GeneratedFolder} is not what Kiota generates from the served document; these differ: {string.Join(", ", differences)}. " +
                "Regenerate it with PAPERCLIP_UPDATE_GENERATED_CLIENT=1 (docs/api.md, Generating a client).");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task Register_log_in_befriend_matchmake_and_read_the_lobby_through_the_generated_client()
    {
        using var http = app.Anonymous();
        var anonymous = Client(http, new AnonymousAuthenticationProvider());
        var alice = app.NewName("kiota_a");
        var bob = app.NewName("kiota_b");
        var registered = await anonymous.Auth.Register.PostAsync(new RegisterRequest { Username = alice, Password = "Secret-123" });
        Assert.Equal(alice, registered!.Username);
        var bobId = (await anonymous.Auth.Register.PostAsync(new RegisterRequest { Username = bob, Password = "Secret-456" }))!.AccountId;

        // The declared errors arrive as the typed problem.
        var taken = await Assert.ThrowsAsync<ProblemDetails>(() => anonymous.Auth.Register.PostAsync(new RegisterRequest { Username = alice, Password = "x" }));
        Assert.Equal(409, taken.Status);
        var refused = await Assert.ThrowsAsync<ProblemDetails>(() => anonymous.Lobby.All.GetAsync());
        Assert.Equal(401, refused.Status);

        // Log in with Basic username:password, then use the token as Bearer.
        using var aliceHttp = app.Anonymous();
        var asAlice = Client(aliceHttp, await LogInAsync(alice, "Secret-123"));
        using var bobHttp = app.Anonymous();
        var asBob = Client(bobHttp, await LogInAsync(bob, "Secret-456"));

        var added = await asAlice.Friends.Add.PostAsync(new UsernameRequest { Username = bob });
        Assert.Equal(bobId, added!.Other!.Id);
        var nobody = await Assert.ThrowsAsync<ProblemDetails>(() => asAlice.Friends.Add.PostAsync(new UsernameRequest { Username = app.NewName("nobody") }));
        Assert.Equal(404, nobody.Status);
        Assert.Contains((await asBob.Friends.GetAsync())!.Friends!, f => f.Username == alice);

        // Matchmaking packs both into one lobby of a game of their own; the lobby reads back the same.
        var game = await app.AddGameAsync(maxPlayers: 2);
        var first = await asAlice.Lobby.Matchmake.PostAsync(new GameRequest { GameId = game.Id });
        var second = await asBob.Lobby.Matchmake.PostAsync(new GameRequest { GameName = game.Name });
        Assert.Equal(first!.LobbyId, second!.LobbyId);
        Assert.Equal(game.Id, first.GameId);
        var lobby = await asAlice.Lobby.GetAsync(request => request.QueryParameters.LobbyId = first.LobbyId);
        Assert.Equal(first.LobbyId, lobby!.LobbyId);
        Assert.Equal("127.0.0.1", lobby.LobbyAddr![0].String);
        Assert.InRange(lobby.LobbyAddr[1].Integer!.Value, 42000, 42999);
        Assert.Equal(first.LobbyAddr![1].Integer, lobby.LobbyAddr[1].Integer);
        Assert.Equal(LobbyState.Ready, lobby.State);
        var all = await asBob.Lobby.All.GetAsync();
        var summary = Assert.IsType<UntypedObject>(all!.AdditionalData[first.LobbyId!.Value.ToString(CultureInfo.InvariantCulture)]).GetValue();
        Assert.Equal(2, Assert.IsType<UntypedInteger>(summary["size"]).GetValue());
        var listedGame = Assert.IsType<UntypedObject>(summary["game"]).GetValue();
        Assert.Equal(game.Name, Assert.IsType<UntypedString>(listedGame["game-name"]).GetValue());
        Assert.Equal("Ready", Assert.IsType<UntypedString>(summary["state"]).GetValue());

        var missing = await Assert.ThrowsAsync<ProblemDetails>(() => asAlice.Lobby.GetAsync(request => request.QueryParameters.LobbyId = -1));
        Assert.Equal(404, missing.Status);
    }

    private static PaperclipApiClient Client(HttpClient http, IAuthenticationProvider authentication) =>
        new(new HttpClientRequestAdapter(authentication, httpClient: http) { BaseUrl = http.BaseAddress!.ToString().TrimEnd('/') });

    private async Task<IAuthenticationProvider> LogInAsync(string username, string password)
    {
        using var http = app.Anonymous();
        var basic = Client(http, new BasicAuthentication(username, password));
        var token = await basic.Auth.Token.GetAsync();
        Assert.True(token!.ExpiresIn > 0);
        return new BaseBearerTokenAuthenticationProvider(new StaticToken(token.Token!));
    }

    private static Dictionary<string, string> SourceFiles(string folder) =>
        Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories)
                .ToDictionary(f => Path.GetRelativePath(folder, f).Replace('\\', '/'), f => File.ReadAllText(f).ReplaceLineEndings("\n"), StringComparer.Ordinal)
            : [];

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Paperclip.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (Paperclip.slnx) is not above " + AppContext.BaseDirectory);
    }

    private static async Task DotnetAsync(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Kiota otherwise asks GitHub for a newer version at every run.
        start.Environment["KIOTA_OFFLINE_ENABLED"] = "true";
        start.Environment["KIOTA_TUTORIAL_ENABLED"] = "false";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} exited {process.ExitCode}: {await output}{await error}");
    }

    // Kiota's ApiKeyAuthenticationProvider refuses plain http, which the test server speaks.
    private sealed class BasicAuthentication(string username, string password) : IAuthenticationProvider
    {
        public Task AuthenticateRequestAsync(RequestInformation request, Dictionary<string, object>? additionalAuthenticationContext = null, CancellationToken cancellationToken = default)
        {
            request.Headers.Add("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}")));
            return Task.CompletedTask;
        }
    }

    private sealed class StaticToken(string token) : IAccessTokenProvider
    {
        public AllowedHostsValidator AllowedHostsValidator { get; } = new();

        public Task<string> GetAuthorizationTokenAsync(Uri uri, Dictionary<string, object>? additionalAuthenticationContext = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(token);
    }
}
