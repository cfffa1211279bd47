using System.Diagnostics;
using Paperclip.Backend.Tests.Infrastructure;

namespace Paperclip.Backend.Tests.Hardening;

/// <summary>
/// The real server (<c>dotnet Paperclip.Server.dll</c>) as a child process on a SQLite file, on a
/// port the OS picks (<c>--urls http://127.0.0.1:0</c>; the bound address is read from its log).
/// </summary>
public sealed class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly ServerOutput _output;

    private ServerProcess(Process process)
    {
        _process = process;
        _output = new ServerOutput(process, "The server exited before it listened.");
    }

    /// <summary>The server's base address.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Everything the server printed so far.</summary>
    public string Log => _output.Text;

    /// <summary>Starts the server on <paramref name="databaseFile"/> with its secrets in <paramref name="dataDirectory"/>; waits until it listens.</summary>
    public static async Task<ServerProcess> StartAsync(string dataDirectory, string databaseFile, TimeSpan timeout, params string[] extraArguments)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Paperclip.Server.dll");
        Assert.True(File.Exists(dll), $"The server is not next to the tests: {dll}");
        var start = new ProcessStartInfo("dotnet")
        {
            // A working directory of its own: no appsettings.json or .env is picked up by accident.
            WorkingDirectory = dataDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            dll, "--urls", "http://127.0.0.1:0",
            $"--Paperclip:DataDirectory={dataDirectory}",
            "--Paperclip:Database:Provider=Sqlite",
            $"--ConnectionStrings:Paperclip=Data Source={databaseFile}",
            "--Paperclip:LogDirectory=",
            "--Paperclip:Demo=false",
            "--Paperclip:Lobbies:PortRange=46000-46099",
        }.Concat(extraArguments))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment.Remove("ConnectionStrings__Paperclip");
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var server = new ServerProcess(process);
        Assert.True(process.Start());
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            server.BaseAddress = await server._output.Listening.WaitAsync(timeout);
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
        {
            server.Dispose();
            Assert.Fail($"The server did not start ({ex.Message}). Its output:\n{server.Log}");
        }

        return server;
    }

    /// <summary>An HTTP client on the server.</summary>
    public HttpClient Client(TimeSpan? timeout = null) => new() { BaseAddress = BaseAddress, Timeout = timeout ?? TimeSpan.FromSeconds(30) };

    /// <summary>Kills the process with SIGKILL (Process.Kill on Unix) and waits for it to be gone.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
        }

        Assert.True(_process.WaitForExit(30_000), "The killed server did not exit.");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: false);
                _process.WaitForExit(30_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }

        _process.Dispose();
    }
}
