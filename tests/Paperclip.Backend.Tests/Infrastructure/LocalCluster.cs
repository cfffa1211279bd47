using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Paperclip.Backend.Lobbies;
using Paperclip.Backend.Security;
using Paperclip.Protocol.Certificates;
using Paperclip.Transport;
using StackExchange.Redis;

namespace Paperclip.Backend.Tests.Infrastructure;

/// <summary>
/// A cluster of real processes on loopback for the fault tests: a PostgreSQL cluster of its own
/// (to stop and start), a redis-server of its own, and the built server as <c>Mode=Api</c> and <c>Mode=GameHost</c> processes with freshly generated shared
/// secrets. Short host timeouts (<see cref="HostTimeout"/>) so a dead host is noticed in seconds.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    /// <summary>RPS: the game every host runs (two players a lobby).</summary>
    public const long GameId = 1;

    /// <summary>
    /// The default host timeout of these clusters: a dead host is noticed in seconds, and a live one
    /// that starts hundreds of lobbies on a shared 2-core machine still heartbeats in time (3 s did not).
    /// </summary>
    public static readonly TimeSpan DefaultHostTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How often API nodes expire dead hosts (<c>Paperclip:Lobbies:PruneIntervalSeconds</c>).</summary>
    public static readonly TimeSpan PruneInterval = TimeSpan.FromSeconds(1);

    private const string HostSecret = "a-cluster-test-host-secret-of-32-characters";
    private static int _nextPortBlock;

    private readonly List<NodeProcess> _nodes = [];
    private readonly string _signingKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private readonly string _serverKey;
    private readonly PostgresCluster? _privatePostgres;
    private readonly TokenService _tokens;
    private ConnectionMultiplexer? _redisConnection;

    private LocalCluster(RedisServer redis, string database, PostgresCluster? privatePostgres, TimeSpan hostTimeout)
    {
        Redis = redis;
        HostTimeout = hostTimeout;
        Database = database;
        _privatePostgres = privatePostgres;
        using (var key = AccountKey.Generate())
            _serverKey = Convert.ToBase64String(key.ExportPkcs8PrivateKey());
        // Tokens minted with the cluster's signing key are what an API node would have issued.
        var options = Options.Create(new PaperclipOptions { Auth = { SigningKey = _signingKey } });
        _tokens = new TokenService(new SecretStore(options, NullLogger<SecretStore>.Instance), options, TimeProvider.System);
    }

    /// <summary>A host that has not heartbeaten for this long is removed (<c>Paperclip:Redis:HostTimeoutSeconds</c>).</summary>
    public TimeSpan HostTimeout { get; }

    /// <summary>The cluster's redis-server.</summary>
    public RedisServer Redis { get; }

    /// <summary>The connection string of the cluster's database.</summary>
    public string Database { get; }

    /// <summary>The cluster's own PostgreSQL (to stop and start).</summary>
    public PostgresCluster Postgres => _privatePostgres!;

    /// <summary>
    /// Starts Redis (with its append-only file if <paramref name="appendOnly"/>) and a database (in a
    /// PostgreSQL cluster of its own); no nodes yet.
    /// </summary>
    public static async Task<LocalCluster> StartAsync(bool appendOnly = false, TimeSpan? hostTimeout = null)
    {
        var redis = new RedisServer { AppendOnly = appendOnly };
        await redis.InitializeAsync();
        // A PostgreSQL of its own: four nodes' pools beside the idle pools the other tests left in the
        // shared cluster went past its max_connections.
        var postgres = await PostgresCluster.StartPrivateAsync();
        var database = await postgres.CreateDatabaseAsync("cluster");
        return new LocalCluster(redis, database + ";Timeout=15", postgres, hostTimeout ?? DefaultHostTimeout);
    }

    /// <summary>Starts an API node (<c>Mode=Api</c>); nodes are started one at a time (the first migrates the database).</summary>
    public async Task<NodeProcess> StartApiAsync(string name)
    {
        var settings = CommonSettings();
        settings["Paperclip:Mode"] = "Api";
        settings["Paperclip:ServerKey"] = _serverKey;
        settings["Paperclip:Auth:SigningKey"] = _signingKey;
        settings["Paperclip:Lobbies:PruneIntervalSeconds"] = ((int)PruneInterval.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        settings["Paperclip:Auth:CredentialCacheSeconds"] = "0";
        return Track(await NodeProcess.StartAsync(name, settings));
    }

    /// <summary>
    /// Starts a game host (<c>Mode=GameHost</c>) named <paramref name="hostId"/> with <paramref name="ports"/> UDP ports of
    /// its own, certified by <paramref name="api"/>; returns once it has registered (its <c>/health/ready</c> answers and Redis lists it).
    /// Its account keys come from <paramref name="database"/> (default: the cluster's); its lobbies are reached at <paramref name="publicHost"/>.
    /// </summary>
    public async Task<GameHostProcess> StartHostAsync(string hostId, NodeProcess api, int ports, string? database = null, string publicHost = "127.0.0.1")
    {
        var first = 20000 + (Interlocked.Add(ref _nextPortBlock, ports) - ports) % 6000;
        var range = new PortRange(first, first + ports - 1);
        var settings = CommonSettings();
        settings["Paperclip:Mode"] = "GameHost";
        settings["Paperclip:Cluster:ApiUrl"] = api.BaseAddress.ToString();
        settings["Paperclip:GameHost:HostId"] = hostId;
        settings["Paperclip:GameHost:PortRange"] = $"{range.First}-{range.Last}";
        settings["Paperclip:GameHost:PublicHost"] = publicHost;
        if (database is not null)
            settings["ConnectionStrings:Paperclip"] = database;
        var node = Track(await NodeProcess.StartAsync(hostId, settings));
        await WaitUntilAsync(async () => await RedisDatabase().SortedSetScoreAsync("{paperclip}:hosts", hostId) is not null, $"{hostId} registered in Redis", node);
        return new GameHostProcess(node, hostId, range);
    }

    /// <summary>A Bearer token for <paramref name="accountId"/>, signed with the cluster's key (no password hashing for a thousand players).</summary>
    public string Token(long accountId) => _tokens.Issue(accountId, $"player{accountId}").Token;

    /// <summary>An HTTP client on <paramref name="node"/> that sends <paramref name="accountId"/>'s token.</summary>
    public HttpClient Client(NodeProcess node, long accountId)
    {
        var http = node.Client();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token(accountId));
        return http;
    }

    /// <summary>Registers an account through <paramref name="node"/> (its key pair made by the API) and returns a client with its token.</summary>
    public static async Task<ClusterPlayer> RegisterAsync(NodeProcess node, string username, string password = "Cluster-Player-1")
    {
        var http = node.Client();
        using (var created = await http.PostAsJsonAsync("/auth/register", new { username, password }))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        http.DefaultRequestHeaders.Authorization = AppFixture.Basic(username, password);
        var token = (await http.GetFromJsonAsync<JsonElement>("/auth/token")).GetProperty("token").GetString()!;
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var key = await http.GetFromJsonAsync<JsonElement>("/auth/key");
        return new ClusterPlayer(http, key.GetProperty("account-id").GetInt64(), username, password, token);
    }

    /// <summary>
    /// What the CLI does to play: waits until the lobby's host reports its server listening, then
    /// downloads the account's key, makes its certificate and connects over UDP to <c>lobby-addr</c>.
    /// </summary>
    public async Task<PaperclipClient> JoinAsync(ClusterPlayer player, JsonElement lobby)
    {
        var lobbyId = lobby.GetProperty("lobby-id").GetInt64();
        await WaitUntilAsync(async () => await RedisDatabase().HashGetAsync($"{{paperclip}}:lobby:{lobbyId}", "state") == "Ready", $"lobby {lobbyId} ready");
        var keyAnswer = await player.Http.GetFromJsonAsync<JsonElement>("/auth/key");
        Assert.True(AccountKey.TryImportEncrypted(Convert.FromBase64String(keyAnswer.GetProperty("key").GetString()!), player.Password, out var key));
        var serverKey = Convert.FromBase64String((await player.Http.GetFromJsonAsync<JsonElement>("/auth/server-key")).GetProperty("key").GetString()!);
        var address = lobby.GetProperty("lobby-addr");
        var client = new PaperclipClient(new PaperclipClientOptions
        {
            Certificate = AccountCertificate.Create(key, player.AccountId, player.Username, DateTimeOffset.UtcNow.AddMinutes(-1), TimeSpan.FromHours(1)),
            PrivateKey = key,
            ServerPublicKey = serverKey,
            HandshakeTimeout = TimeSpan.FromSeconds(10),
        });
        await client.ConnectAsync(new IPEndPoint(IPAddress.Parse(address[0].GetString()!), address[1].GetInt32())).WaitAsync(TimeSpan.FromSeconds(20));
        return client;
    }

    /// <summary>The cluster's Redis, read directly (to check what the API nodes wrote).</summary>
    public IDatabase RedisDatabase()
    {
        _redisConnection ??= ConnectionMultiplexer.Connect(new ConfigurationOptions
        {
            EndPoints = { { IPAddress.Loopback, Redis.Port } },
            AbortOnConnectFail = false,
            AllowAdmin = true,
            ConnectTimeout = 15_000,
            SyncTimeout = 15_000,
            AsyncTimeout = 15_000,
        });
        return _redisConnection.GetDatabase();
    }

    /// <summary>Waits (generously: 60 s) until <paramref name="condition"/> holds; fails naming <paramref name="what"/> with the nodes' output.</summary>
    public async Task WaitUntilAsync(Func<Task<bool>> condition, string what, NodeProcess? watched = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            if (watched is { HasExited: true })
                Assert.Fail($"{watched.Name} exited while waiting for {what}:\n{watched.Log}");
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Timed out waiting for {what}.\n{await LogsAsync()}");
            await Task.Delay(50);
        }
    }

    /// <summary>The end of every node's output and what Redis holds of the hosts, for failure messages.</summary>
    public async Task<string> LogsAsync()
    {
        var nodes = string.Join("\n", _nodes.Select(n => $"--- {n.Name}:\n{Tail(n.Log)}"));
        try
        {
            var redis = RedisDatabase();
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var hosts = new List<string>();
            foreach (var host in await redis.SortedSetRangeByRankWithScoresAsync("{paperclip}:hosts"))
            {
                hosts.Add($"{host.Element}: deadline in {host.Score - now} ms, state {await redis.HashGetAsync($"{{paperclip}}:host:{host.Element}", "state")}, " +
                    $"{await redis.ListLengthAsync($"{{paperclip}}:host:{host.Element}:free-ports")} free ports, {await redis.SetLengthAsync($"{{paperclip}}:host:{host.Element}:lobbies")} lobbies");
            }
            return $"{nodes}\n--- registry: {await redis.SortedSetLengthAsync("{paperclip}:lobbies")} lobbies; hosts: {string.Join("; ", hosts)}";
        }
        catch (RedisException e)
        {
            return $"{nodes}\n--- registry: {e.Message}";
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
            await node.DisposeAsync();
        _redisConnection?.Dispose();
        await Redis.DisposeAsync();
        if (_privatePostgres is not null)
            await _privatePostgres.DisposeAsync();
    }

    private Dictionary<string, string> CommonSettings() => new(StringComparer.Ordinal)
    {
        ["Paperclip:Database:Provider"] = "Postgres",
        ["ConnectionStrings:Paperclip"] = Database,
        ["Paperclip:Redis:Configuration"] = $"127.0.0.1:{Redis.Port}",
        ["Paperclip:Redis:HostTimeoutSeconds"] = ((int)HostTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture),
        ["Paperclip:Redis:HeartbeatSeconds"] = "1",
        ["Paperclip:Cluster:HostSecret"] = HostSecret,
        ["Serilog:MinimumLevel:Default"] = "Warning",
        ["Serilog:MinimumLevel:Override:Microsoft.Hosting.Lifetime"] = "Information",
    };

    private NodeProcess Track(NodeProcess node)
    {
        _nodes.Add(node);
        return node;
    }

    private static string Tail(string log) => log.Length > 4000 ? log[^4000..] : log;
}

/// <summary>A game-host process and the UDP ports it owns.</summary>
public sealed record GameHostProcess(NodeProcess Node, string HostId, PortRange Ports)
{
    /// <summary>True when <paramref name="lobby"/> (a lobby answer) is placed on this host.</summary>
    public bool Holds(JsonElement lobby) => lobby.GetProperty("lobby-addr")[1].GetInt32() is var port && port >= Ports.First && port <= Ports.Last;
}

/// <summary>A registered account with its HTTP client (Bearer token).</summary>
public sealed record ClusterPlayer(HttpClient Http, long AccountId, string Username, string Password, string Token);
