using System.Net.Http.Json;
using System.Text.RegularExpressions;

namespace Paperclip.Client.Tests.Infrastructure;

/// <summary>
/// The real server (<c>Paperclip.Server.dll</c>) as a child process on a free loopback port,
/// with a temporary data directory and SQLite file, the demo accounts, and a block of UDP
/// ports of its own for lobbies.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private static int _nextRange = Environment.ProcessId % 40;
    private readonly ChildProcess _process;

    private ServerProcess(ChildProcess process, string dataDirectory, Uri address)
    {
        _process = process;
        DataDirectory = dataDirectory;
        Address = address;
    }

    /// <summary>The HTTP address, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public Uri Address { get; }

    /// <summary><see cref="Address"/> without the trailing slash, as a player types it.</summary>
    public string Url => Address.GetLeftPart(UriPartial.Authority);

    public string DataDirectory { get; }

    /// <summary>What the server logged so far.</summary>
    public string Log => _process.Output + _process.Error;

    public static async Task<ServerProcess> StartAsync()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("paperclip-cli-test-").FullName;
        // Each server gets its own block of 50 lobby ports (the host skips a port held by another program).
        var start = 43000 + (Interlocked.Increment(ref _nextRange) % 40 * 50);
        var process = ChildProcess.Start(Path.Combine(AppContext.BaseDirectory, "Paperclip.Server.dll"),
        [
            "--urls", "http://127.0.0.1:0",
            $"--Paperclip:DataDirectory={dataDirectory}",
            $"--ConnectionStrings:Paperclip=Data Source={Path.Combine(dataDirectory, "paperclip.db")}",
            "--Paperclip:Demo=true",
            "--Paperclip:LogDirectory=",
            $"--Paperclip:Lobbies:PortRange={start}-{start + 49}",
            "--Paperclip:Lobbies:PublicHost=127.0.0.1",
        ], workingDirectory: dataDirectory, environment: new Dictionary<string, string?> { ["ASPNETCORE_ENVIRONMENT"] = "Testing" });
        try
        {
            var line = await process.WaitForLineAsync(l => l.Contains("Now listening on:", StringComparison.Ordinal), StartTimeout);
            var address = new Uri(ListeningRegex().Match(line).Groups[1].Value);
            return new ServerProcess(process, dataDirectory, address);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>A port on which nothing listens (bound, then released).</summary>
    public static int UnusedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Registers an account straight over HTTP (faster than a CLI process).</summary>
    public async Task RegisterAsync(string username, string password)
    {
        using var http = new HttpClient { BaseAddress = Address };
        using var response = await http.PostAsJsonAsync("/auth/register", new { username, password });
        Assert.True(response.IsSuccessStatusCode, $"register {username}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Stops the server as Ctrl+C would, and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        _process.Terminate();
        await _process.WaitForExitAsync(TimeSpan.FromSeconds(60));
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    [GeneratedRegex(@"Now listening on:\s*(http://\S+)")]
    private static partial Regex ListeningRegex();
}

/// <summary>One server for a test class.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    private static int _counter;

    public ServerProcess Server { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Server = await ServerProcess.StartAsync();

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();

    /// <summary>A user name no other test uses.</summary>
    public static string NewName(string prefix) => $"{prefix}{Environment.ProcessId % 1000}x{Interlocked.Increment(ref _counter)}";

    /// <summary>Runs the CLI against this server.</summary>
    public Task<ProcessResult> RunAsync(params string[] args) => Cli.RunAsync(["--server", Server.Url, .. args]);
}
