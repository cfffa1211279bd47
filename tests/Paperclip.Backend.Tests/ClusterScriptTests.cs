using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Paperclip.Backend.Tests;

/// <summary>
/// <c>./cluster.sh start|stop</c> as an operator runs it: real PostgreSQL, Redis, two API nodes
/// and two game hosts as processes on loopback (this test's build of the server, not a publish).
/// </summary>
[Collection(Infrastructure.ClusterProcesses.Name)]
public sealed partial class ClusterScriptTests
{
    [Fact]
    public async Task Cluster_start_prints_two_api_nodes_that_share_accounts_and_keys_and_stop_removes_everything()
    {
        var root = RepositoryRoot();
        var state = Path.Combine(Path.GetTempPath(), $"paperclip-cluster-test-{Guid.NewGuid():N}");
        var token = TestContext.Current.CancellationToken;
        try
        {
            var (code, output, error) = await RunAsync(root, state, "start", token);
            Assert.True(code == 0, $"cluster.sh start exited with {code}:\n{error}");
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, lines.Length);
            Assert.All(lines, l => Assert.Matches(ApiLine(), l));
            var apis = lines.Select(l => new HttpClient { BaseAddress = new Uri(l["api ".Length..] + "/") }).ToArray();

            // Every part answers; the API nodes share the server key, the database and the token key.
            foreach (var part in File.ReadAllLines(Path.Combine(state, "parts")).Where(p => p.Contains("http://", StringComparison.Ordinal)))
            {
                using var http = new HttpClient();
                var url = part[(part.IndexOf(' ', StringComparison.Ordinal) + 1)..];
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(url + "/health", token)).StatusCode);
                Assert.Contains("# TYPE", await http.GetStringAsync(url + "/metrics", token), StringComparison.Ordinal);
            }
            var keys = await Task.WhenAll(apis.Select(a => a.GetFromJsonAsync<JsonElement>("auth/server-key", token)));
            Assert.Equal(keys[0].GetProperty("key").GetString(), keys[1].GetProperty("key").GetString());
            using (var created = await apis[0].PostAsJsonAsync("auth/register", new { username = "mario", password = "ItsAMe123" }, token))
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            using var login = new HttpRequestMessage(HttpMethod.Get, "auth/token");
            login.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("mario:ItsAMe123")));
            using var issued = await apis[1].SendAsync(login, token);
            Assert.Equal(HttpStatusCode.OK, issued.StatusCode);
            var jwt = (await issued.Content.ReadFromJsonAsync<JsonElement>(token)).GetProperty("token").GetString();
            using var friends = new HttpRequestMessage(HttpMethod.Get, "friends/");
            friends.Headers.Authorization = new AuthenticationHeaderValue("Bearer", jwt);
            Assert.Equal(HttpStatusCode.OK, (await apis[0].SendAsync(friends, token)).StatusCode);

            // Each game host got its certificate from an API node (it holds no server key).
            foreach (var host in new[] { "host1", "host2" })
                Assert.Contains("Game host certificate issued", await File.ReadAllTextAsync(Path.Combine(state, "logs", host + ".log"), token), StringComparison.Ordinal);

            var pids = Directory.GetFiles(Path.Combine(state, "pids")).Select(f => int.Parse(File.ReadAllText(f).Trim(), System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(5, pids.Length); // api1, api2, host1, host2, redis
            (code, _, error) = await RunAsync(root, state, "stop", token);
            Assert.True(code == 0, $"cluster.sh stop exited with {code}:\n{error}");
            Assert.False(Directory.Exists(state));
            Assert.All(pids, pid => Assert.False(IsAlive(pid), $"process {pid} outlived cluster.sh stop"));
        }
        finally
        {
            if (Directory.Exists(state))
                await RunAsync(root, state, "stop", CancellationToken.None);
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(string root, string state, string verb, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(Path.Combine(root, "cluster.sh"), verb)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["PAPERCLIP_CLUSTER_DIR"] = state;
        start.Environment["PAPERCLIP_CLUSTER_APP"] = AppContext.BaseDirectory;
        start.Environment["PAPERCLIP_CLUSTER_UDP"] = "30000";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "cluster.sh")))
                return directory.FullName;
        }
        throw new InvalidOperationException("cluster.sh not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^api http://127\.0\.0\.1:\d+$")]
    private static partial Regex ApiLine();
}
