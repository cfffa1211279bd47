using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Paperclip.Backend.Tests.Infrastructure;

/// <summary>
/// One cluster node as a real process: the built server (<c>dotnet Paperclip.Server.dll</c>) with
/// its settings in the environment (as an operator's unit file would give them), on a port the OS
/// picks (the bound address is read from its log), in a working directory of its own.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private const int SigStop = 19;
    private const int SigCont = 18;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly Process _process;
    private readonly string _directory;
    private readonly ServerOutput _output;

    private NodeProcess(string name, Process process, string directory)
    {
        Name = name;
        _process = process;
        _directory = directory;
        _output = new ServerOutput(process, $"{name} exited before it listened.");
    }

    /// <summary>The name the test gave the node (in failure messages).</summary>
    public string Name { get; }

    /// <summary>The node's working and data directory (<c>Paperclip:DataDirectory</c>).</summary>
    public string DataDirectory => _directory;

    /// <summary>The node's HTTP address.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Everything the node printed so far.</summary>
    public string Log => _output.Text;

    /// <summary>Starts a node with <paramref name="settings"/> (configuration keys, <c>:</c>-separated) and waits until it listens.</summary>
    public static async Task<NodeProcess> StartAsync(string name, IReadOnlyDictionary<string, string> settings)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Paperclip.Server.dll");
        Assert.True(File.Exists(dll), $"The server is not next to the tests: {dll}");
        var directory = Directory.CreateTempSubdirectory($"paperclip-{name}-").FullName;
        var start = new ProcessStartInfo("dotnet")
        {
            // A working directory of its own: no appsettings.json or .env is picked up by accident.
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            ArgumentList = { dll, "--urls", "http://127.0.0.1:0" },
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["Paperclip__DataDirectory"] = directory;
        start.Environment["Paperclip__LogDirectory"] = "";
        start.Environment["Paperclip__Demo"] = "false";
        foreach (var (key, value) in settings)
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var node = new NodeProcess(name, process, directory);
        Assert.True(process.Start());
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            node.BaseAddress = await node._output.Listening.WaitAsync(StartTimeout);
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
        {
            await node.DisposeAsync();
            Assert.Fail($"{name} did not start ({ex.Message}). Its output:\n{node.Log}");
        }

        return node;
    }

    /// <summary>An HTTP client on the node.</summary>
    public HttpClient Client(TimeSpan? timeout = null) => new() { BaseAddress = BaseAddress, Timeout = timeout ?? TimeSpan.FromSeconds(30) };

    /// <summary>Kills the process with SIGKILL (<see cref="Process.Kill()"/> on Unix): no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: false);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
    }

    /// <summary>Stops the process in its tracks with SIGSTOP (a paused VM, a long GC pause): it holds its sockets and state but runs nothing.</summary>
    public void Pause() => Signal(SigStop);

    /// <summary>Lets a paused process run again (SIGCONT).</summary>
    public void Resume() => Signal(SigCont);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillAsync();
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Signal(int signal)
    {
        if (kill(_process.Id, signal) != 0)
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
