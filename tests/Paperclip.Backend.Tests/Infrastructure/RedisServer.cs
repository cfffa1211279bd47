using System.Diagnostics;

namespace Paperclip.Backend.Tests.Infrastructure;

/// <summary>
/// A redis-server of its own (Debian's package), on a free loopback port, its files in a
/// temporary directory, no persistence unless <see cref="AppendOnly"/>; stopped and removed at
/// dispose. No system service is used. It can be killed and started again on the same port.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("paperclip-redis-").FullName;
    private Process? _process;

    /// <summary>True: an append-only file fsynced on every write, so a killed server comes back with every acknowledged write.</summary>
    public bool AppendOnly { get; init; }

    /// <summary>The TCP port on 127.0.0.1.</summary>
    public int Port { get; private set; }

    /// <summary>The StackExchange.Redis configuration string.</summary>
    public string Configuration => $"127.0.0.1:{Port},allowAdmin=true";

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        // redis-server cannot report a port it chose: take a free one from the kernel and retry if another program got it first.
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort();
            var failure = await StartProcessAsync();
            if (failure is null)
                return;
            if (attempt == 5)
                throw new InvalidOperationException($"redis-server did not start: {failure}");
        }
    }

    /// <summary>Kills the server with SIGKILL (a crash: nothing is saved at exit).</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        _process = null;
    }

    /// <summary>Starts the killed server again on its port and directory (with its append-only file, if it keeps one).</summary>
    public async Task RestartAsync()
    {
        if (await StartProcessAsync() is { } failure)
            throw new InvalidOperationException($"redis-server did not start again on port {Port}: {failure}");
    }

    private async Task<string?> StartProcessAsync()
    {
        var start = new ProcessStartInfo("redis-server")
        {
            ArgumentList =
            {
                "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", AppendOnly ? "yes" : "no", "--appendfsync", "always", "--dir", _directory,
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start (apt-get install redis-server).");
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        var output = new System.Text.StringBuilder();
        var ready = new TaskCompletionSource();
        _process.OutputDataReceived += (_, e) =>
        {
            lock (output)
                output.AppendLine(e.Data);
            if (e.Data?.Contains("Ready to accept connections", StringComparison.Ordinal) == true)
                ready.TrySetResult();
        };
        _process.BeginOutputReadLine();
        var exited = _process.WaitForExitAsync();
        if (await Task.WhenAny(ready.Task, exited).WaitAsync(TimeSpan.FromSeconds(60)) == ready.Task)
            return null;
        _process.Dispose();
        _process = null;
        lock (output)
            return output.ToString();
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
