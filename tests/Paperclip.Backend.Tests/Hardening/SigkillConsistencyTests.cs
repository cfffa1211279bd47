using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Paperclip.Backend.Tests.Infrastructure;

namespace Paperclip.Backend.Tests.Hardening;

/// <summary>
/// The real server on SQLite, hammered with parallel registrations and friend adds/removes, killed
/// with SIGKILL at a seeded point, restarted on the same file and checked: it starts, the file passes
/// <c>PRAGMA integrity_check</c>, every acknowledged account exists and logs in, no friendship row
/// references a missing account or repeats a pair, and friendships are symmetric and as last
/// acknowledged. Several kill points on one database.
/// </summary>
public sealed class SigkillConsistencyTests : IDisposable
{
    private const string Password = "Kill-9-Secret";
    private const int BaseAccounts = 8;
    private const int RegistrationWorkers = 2;
    private const int FriendWorkers = 4;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly string _directory = Directory.CreateTempSubdirectory("paperclip-kill-").FullName;
    private readonly ITestOutputHelper _output;

    public SigkillConsistencyTests(ITestOutputHelper output) => _output = output;

    private string DatabaseFile => Path.Combine(_directory, "paperclip.db");

    [Fact]
    public async Task Sqlite_stays_consistent_when_the_server_is_killed_mid_write()
    {
        var seed = HardeningSettings.Seed(9);
        var random = new Random(seed);
        var cycles = HardeningSettings.LongRun ? 12 : 3;
        var model = new Model();
        var server = await ServerProcess.StartAsync(_directory, DatabaseFile, StartTimeout);
        try
        {
            using (var client = server.Client())
            {
                for (var i = 0; i < BaseAccounts; i++)
                {
                    model.Base.Add(await RegisterBaseAsync(client, $"base{i}"));
                }
            }

            model.PairStates = new int[model.Pairs.Count];
            for (var cycle = 0; cycle < cycles; cycle++)
            {
                var killPoint = (Registrations: random.Next(1, 5), FriendOps: random.Next(20, 120));
                var (registrations, friendOps) = await HammerThenKillAsync(server, model, cycle, killPoint, random.Next());
                _output.WriteLine($"seed {seed} cycle {cycle}: killed after {registrations} registrations and {friendOps} friend changes acknowledged");
                server.Dispose();
                server = await ServerProcess.StartAsync(_directory, DatabaseFile, StartTimeout);
                await VerifyAsync(server, model, $"seed {seed} cycle {cycle}");
            }

            _output.WriteLine($"{model.Accounts.Count} acknowledged accounts, {model.PairStates.Count(s => s == Friends)} friendships at the end");
        }
        finally
        {
            server.Dispose();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private const int NotFriends = 0;
    private const int Friends = 1;
    private const int Unknown = 2;

    private static async Task<BaseAccount> RegisterBaseAsync(HttpClient client, string username)
    {
        using var response = await client.PostAsJsonAsync("/auth/register", new { username, password = Password });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("account-id").GetInt64();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/auth/token");
        request.Headers.Authorization = AppFixture.Basic(username, Password);
        using var token = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        return new BaseAccount(id, username, (await token.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!);
    }

    // Registrations and friend changes in parallel; SIGKILL once this cycle has at least the kill
    // point's acknowledged registrations and friend changes, with more of both in flight.
    private static async Task<(int Registrations, int FriendOps)> HammerThenKillAsync(ServerProcess server, Model model, int cycle, (int Registrations, int FriendOps) kill, int seed)
    {
        var registrations = 0;
        var friendOps = 0;
        var killPoint = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        var workers = new List<Task>();
        for (var w = 0; w < RegistrationWorkers; w++)
        {
            var worker = w;
            workers.Add(Task.Run(async () =>
            {
                using var client = server.Client();
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    var username = $"k{cycle}w{worker}n{n}";
                    model.Attempted[username] = true;
                    try
                    {
                        using var response = await client.PostAsJsonAsync("/auth/register", new { username, password = Password }, stop.Token);
                        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                        var id = (await response.Content.ReadFromJsonAsync<JsonElement>(stop.Token)).GetProperty("account-id").GetInt64();
                        model.Accounts[username] = id;
                        model.NewAccounts.Enqueue(username);
                    }
                    catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
                    {
                        return; // Killed mid-request: the outcome is unknown.
                    }

                    if (Interlocked.Increment(ref registrations) >= kill.Registrations && Volatile.Read(ref friendOps) >= kill.FriendOps)
                    {
                        killPoint.TrySetResult();
                    }
                }
            }));
        }

        for (var w = 0; w < FriendWorkers; w++)
        {
            var worker = w;
            var random = new Random(seed + w);
            workers.Add(Task.Run(async () =>
            {
                using var client = server.Client();
                // Each worker owns its pairs, so a pair's last acknowledged change is well defined.
                var mine = Enumerable.Range(0, model.Pairs.Count).Where(p => p % FriendWorkers == worker).ToArray();
                while (!stop.IsCancellationRequested)
                {
                    var pair = mine[random.Next(mine.Length)];
                    var (a, b) = model.Pairs[pair];
                    var state = model.PairStates[pair];
                    var add = state == Unknown ? random.Next(2) == 0 : state == NotFriends;
                    var (from, to) = random.Next(2) == 0 ? (model.Base[a], model.Base[b]) : (model.Base[b], model.Base[a]);
                    model.PairStates[pair] = Unknown;
                    using var request = new HttpRequestMessage(add ? HttpMethod.Post : HttpMethod.Delete, add ? "/friends/add" : "/friend/remove")
                    {
                        Content = JsonContent.Create(new { username = to.Username }),
                    };
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", from.Token);
                    try
                    {
                        using var response = await client.SendAsync(request, stop.Token);
                        model.PairStates[pair] = response.StatusCode switch
                        {
                            HttpStatusCode.Created or HttpStatusCode.Conflict => Friends,
                            HttpStatusCode.NoContent or HttpStatusCode.NotFound => NotFriends,
                            _ => throw new InvalidOperationException($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}"),
                        };
                    }
                    catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
                    {
                        return;
                    }

                    if (Interlocked.Increment(ref friendOps) >= kill.FriendOps && Volatile.Read(ref registrations) >= kill.Registrations)
                    {
                        killPoint.TrySetResult();
                    }
                }
            }));
        }

        var first = await Task.WhenAny(killPoint.Task, Task.WhenAll(workers)).WaitAsync(TimeSpan.FromSeconds(90));
        Assert.True(first == killPoint.Task, "The workers stopped before the kill point: " + (Task.WhenAll(workers).Exception?.ToString() ?? server.Log));
        server.Kill();
        await stop.CancelAsync();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));
        return (Volatile.Read(ref registrations), Volatile.Read(ref friendOps));
    }

    private async Task VerifyAsync(ServerProcess server, Model model, string where)
    {
        using var client = server.Client();
        using (var health = await client.GetAsync("/health"))
        {
            Assert.True(health.StatusCode == HttpStatusCode.OK, $"{where}: /health is {(int)health.StatusCode}");
        }

        // The file itself, opened next to the running server (WAL allows a reader).
        var accounts = new Dictionary<string, long>(StringComparer.Ordinal);
        var rows = new HashSet<(long, long)>();
        await using (var connection = new SqliteConnection($"Data Source={DatabaseFile};Pooling=False"))
        {
            await connection.OpenAsync();
            Assert.Equal(["ok"], await QueryAsync(connection, "PRAGMA integrity_check", r => r.GetString(0)));
            Assert.Empty(await QueryAsync(connection, "PRAGMA foreign_key_check", r => r.GetValue(0)));
            Assert.Equal([0L], await QueryAsync(connection,
                "SELECT COUNT(*) FROM friendships f WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = f.lower_id) OR NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = f.higher_id)",
                r => r.GetInt64(0)));
            Assert.Equal([0L], await QueryAsync(connection, "SELECT COUNT(*) FROM friendships WHERE lower_id >= higher_id", r => r.GetInt64(0)));
            Assert.Empty(await QueryAsync(connection, "SELECT lower_id, higher_id FROM friendships GROUP BY lower_id, higher_id HAVING COUNT(*) > 1", r => r.GetInt64(0)));
            Assert.Empty(await QueryAsync(connection, "SELECT normalized_username FROM accounts GROUP BY normalized_username HAVING COUNT(*) > 1", r => r.GetString(0)));
            foreach (var (name, id) in await QueryAsync(connection, "SELECT username, id FROM accounts", r => (r.GetString(0), r.GetInt64(1))))
            {
                accounts[name] = id;
            }

            foreach (var row in await QueryAsync(connection, "SELECT lower_id, higher_id FROM friendships", r => (r.GetInt64(0), r.GetInt64(1))))
            {
                rows.Add(row);
            }
        }

        // Every acknowledged account is there with its id; one in flight at the kill is all there or absent.
        foreach (var (name, id) in model.Accounts)
        {
            Assert.True(accounts.TryGetValue(name, out var stored) && stored == id, $"{where}: the acknowledged account {name} ({id}) is missing");
        }

        var toLogIn = new List<string>();
        while (model.NewAccounts.TryDequeue(out var name))
        {
            toLogIn.Add(name);
        }

        toLogIn.AddRange(model.Attempted.Keys.Where(name => !model.Accounts.ContainsKey(name) && accounts.ContainsKey(name)));
        model.Attempted.Clear();
        await Parallel.ForEachAsync(toLogIn, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (name, cancellationToken) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/auth/token");
            request.Headers.Authorization = AppFixture.Basic(name, Password);
            using var response = await client.SendAsync(request, cancellationToken);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{where}: {name} cannot log in: {(int)response.StatusCode}");
        });
        foreach (var name in toLogIn)
        {
            model.Accounts.TryAdd(name, accounts[name]);
        }

        // Friendships as the API shows them: symmetric, equal to the rows, and as last acknowledged.
        var lists = new Dictionary<long, HashSet<long>>();
        foreach (var account in model.Base)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/friends/");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", account.Token);
            using var response = await client.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{where}: /friends/ for {account.Username} is {(int)response.StatusCode}");
            lists[account.Id] = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("friends").EnumerateArray()
                .Select(f => f.GetProperty("id").GetInt64()).ToHashSet();
        }

        for (var p = 0; p < model.Pairs.Count; p++)
        {
            var (a, b) = (model.Base[model.Pairs[p].A], model.Base[model.Pairs[p].B]);
            var aListsB = lists[a.Id].Contains(b.Id);
            Assert.True(aListsB == lists[b.Id].Contains(a.Id), $"{where}: {a.Username} and {b.Username} are not symmetric friends");
            Assert.True(aListsB == rows.Contains((Math.Min(a.Id, b.Id), Math.Max(a.Id, b.Id))), $"{where}: the API and the rows disagree on {a.Username}/{b.Username}");
            if (model.PairStates[p] != Unknown)
            {
                Assert.True(aListsB == (model.PairStates[p] == Friends), $"{where}: an acknowledged change of {a.Username}/{b.Username} was lost");
            }

            model.PairStates[p] = aListsB ? Friends : NotFriends;
        }
    }

    private static async Task<List<T>> QueryAsync<T>(SqliteConnection connection, string sql, Func<SqliteDataReader, T> read)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var list = new List<T>();
        while (await reader.ReadAsync())
        {
            list.Add(read(reader));
        }

        return list;
    }

    private sealed record BaseAccount(long Id, string Username, string Token);

    /// <summary>What the clients were told: acknowledged accounts and each pair's last acknowledged state.</summary>
    private sealed class Model
    {
        public List<BaseAccount> Base { get; } = [];

        public List<(int A, int B)> Pairs => _pairs ??= [.. Enumerable.Range(0, Base.Count).SelectMany(a => Enumerable.Range(a + 1, Base.Count - a - 1).Select(b => (a, b)))];

        public int[] PairStates { get; set; } = [];

        public ConcurrentDictionary<string, long> Accounts { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<string, bool> Attempted { get; } = new(StringComparer.Ordinal);

        public ConcurrentQueue<string> NewAccounts { get; } = new();

        private List<(int A, int B)>? _pairs;
    }
}
