using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Paperclip.Games.RockPaperScissors;
using Paperclip.Protocol.Certificates;
using Paperclip.Transport;

namespace Paperclip.GameHost.Tests;

/// <summary>
/// The whole server (REST API and lobby game servers) in this process: HTTP through the ASP.NET
/// test host, game traffic over real UDP on loopback, a real SQLite file, an injected clock.
/// </summary>
public sealed class Platform : WebApplicationFactory<Program>
{
    private static int _nextRange;
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("paperclip-e2e-").FullName;
    private readonly string _portRange;
    private readonly Dictionary<string, string> _settings;

    /// <param name="settings">More configuration, applied last.</param>
    public Platform(Dictionary<string, string>? settings = null)
    {
        _settings = settings ?? [];
        // Each platform gets its own block of ports, so parallel tests never compete for one.
        var start = 45000 + (Interlocked.Increment(ref _nextRange) * 50 % 4000);
        _portRange = $"{start}-{start + 49}";
    }

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Paperclip:DataDirectory", _dataDirectory);
        builder.UseSetting("Paperclip:LogDirectory", "");
        builder.UseSetting("ConnectionStrings:Paperclip", $"Data Source={Path.Combine(_dataDirectory, "paperclip.db")}");
        builder.UseSetting("Paperclip:Lobbies:PortRange", _portRange);
        builder.UseSetting("Paperclip:Lobbies:PruneSeconds", "60");
        builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
        foreach (var (key, value) in _settings)
            builder.UseSetting(key, value);
        builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Time));
    }

    /// <summary>Registers an account and returns a player logged in with a token.</summary>
    public async Task<Player> RegisterAsync(string username, string password = "correct horse")
    {
        var http = CreateClient();
        using (var response = await http.PostAsJsonAsync("/auth/register", new { username, password }, Token))
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}")));
        var token = (await GetJsonAsync(http, "/auth/token")).GetProperty("token").GetString();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return new Player(http, username, password);
    }

    public static async Task<JsonElement> GetJsonAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path, Token);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Token)).Clone();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    internal static CancellationToken Token => TestContext.Current.CancellationToken;
}

/// <summary>A registered account: its HTTP client (Bearer token) and, once joined, its game connection.</summary>
public sealed class Player(HttpClient http, string username, string password) : IAsyncDisposable
{
    public HttpClient Http { get; } = http;

    public string Username { get; } = username;

    public string Password { get; } = password;

    public PaperclipClient? Game { get; private set; }

    public BlockingCollection<RoundResult> Results { get; } = [];

    /// <summary>Who sat down or left across from this player, as the game said, and how the news travelled.</summary>
    public BlockingCollection<(PresenceMessage Presence, MessageInfo Info)> Presence { get; } = [];

    public BlockingCollection<ErrorReceivedEventArgs> Errors { get; } = [];

    public BlockingCollection<DisconnectedEventArgs> Disconnects { get; } = [];

    public async Task<JsonElement> PostAsync(string path, object body, HttpStatusCode expected)
    {
        using var response = await Http.PostAsJsonAsync(path, body, Platform.Token);
        Assert.Equal(expected, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Platform.Token)).Clone();
    }

    public Task<JsonElement> GetAsync(string path) => Platform.GetJsonAsync(Http, path);

    /// <summary>
    /// What the CLI does to join: download the key, make a certificate, connect to the lobby's
    /// address; <paramref name="clock"/> is the clock the client checks the server's certificate on.
    /// </summary>
    public async Task JoinAsync(JsonElement lobby, TimeProvider? clock = null)
    {
        var keyAnswer = await GetAsync("/auth/key");
        Assert.True(AccountKey.TryImportEncrypted(Convert.FromBase64String(keyAnswer.GetProperty("key").GetString()!), Password, out var key));
        var accountId = keyAnswer.GetProperty("account-id").GetInt64();
        var serverKey = Convert.FromBase64String((await GetAsync("/auth/server-key")).GetProperty("key").GetString()!);
        var address = lobby.GetProperty("lobby-addr");

        Game = new PaperclipClient(new PaperclipClientOptions
        {
            Certificate = AccountCertificate.Create(key, accountId, Username, DateTimeOffset.UtcNow.AddMinutes(-1), TimeSpan.FromHours(1)),
            PrivateKey = key,
            ServerPublicKey = serverKey,
            HandshakeTimeout = TimeSpan.FromSeconds(10),
            TimeProvider = clock ?? TimeProvider.System,
        });
        Game.DataReceived += (data, info) =>
        {
            if (data.IndexOf("\"presence\""u8) >= 0)
                Presence.Add((JsonSerializer.Deserialize(data, RpsJsonContext.Default.PresenceMessage)!, info));
            else
                Results.Add(JsonSerializer.Deserialize(data, RpsJsonContext.Default.RoundResult)!);
        };
        Game.ErrorReceived += (_, e) => Errors.Add(e);
        Game.Disconnected += (_, e) => Disconnects.Add(e);
        await Game.ConnectAsync(new IPEndPoint(IPAddress.Parse(address[0].GetString()!), address[1].GetInt32()), Platform.Token)
            .WaitAsync(TimeSpan.FromSeconds(20), Platform.Token);
    }

    public void Choose(Choice choice) => Game!.Send(JsonSerializer.SerializeToUtf8Bytes(new ChoiceMessage((int)choice), RpsJsonContext.Default.ChoiceMessage), Delivery.Reliable);

    public async ValueTask LeaveAsync()
    {
        if (Game is not null)
            await Game.DisposeAsync();
        Game = null;
    }

    public async ValueTask DisposeAsync()
    {
        await LeaveAsync();
        Http.Dispose();
    }
}

public static class Wait
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    public static T Next<T>(this BlockingCollection<T> collection)
    {
        Assert.True(collection.TryTake(out var item, (int)Timeout.TotalMilliseconds, Platform.Token), $"Nothing arrived within {Timeout}.");
        return item!;
    }

    public static async Task UntilAsync(Func<Task<bool>> condition, string because)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting until {because}.");
            await Task.Delay(20, Platform.Token);
        }
    }
}
