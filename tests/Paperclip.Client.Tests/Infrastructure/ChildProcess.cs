using System.Diagnostics;
using System.Text;

namespace Paperclip.Client.Tests.Infrastructure;

/// <summary>The result of a finished process.</summary>
public sealed record ProcessResult(int ExitCode, string Output, string Error)
{
    /// <summary>Everything it printed, for assertion messages.</summary>
    public string All => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";

    /// <summary>No .NET stack frame anywhere in the output.</summary>
    public void AssertNoStackTrace()
    {
        Assert.DoesNotContain("   at ", Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled", Error, StringComparison.Ordinal);
    }
}

/// <summary>
/// A <c>dotnet some.dll …</c> child process with its output collected line by line and its
/// input open for writing. Every wait is bounded; disposing kills it if it still runs.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();
    private readonly Lock _lock = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Found)> _watchers = [];
    private readonly TaskCompletionSource _outputClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _errorClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(Process process)
    {
        _process = process;
    }

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>The standard input.</summary>
    public StreamWriter Input => _process.StandardInput;

    /// <summary>What it printed on stdout so far.</summary>
    public string Output
    {
        get
        {
            lock (_lock)
                return _output.ToString();
        }
    }

    /// <summary>What it printed on stderr so far.</summary>
    public string Error
    {
        get
        {
            lock (_lock)
                return _error.ToString();
        }
    }

    /// <summary>The <c>dotnet</c> host that runs the tests (so the same runtime runs the children).</summary>
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>Starts <c>dotnet <paramref name="dll"/> <paramref name="args"/></c>.</summary>
    public static ChildProcess Start(string dll, IEnumerable<string> args, string? workingDirectory = null, IDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo(DotnetHost)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add(dll);
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        // Nothing from the developer's shell leaks into a test.
        foreach (var name in new[] { "PAPERCLIP_SERVER", "PAPERCLIP_USER", "PAPERCLIP_PASSWORD" })
            info.Environment.Remove(name);
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["NO_COLOR"] = "1";
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
                info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(process);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data, child._output, child._outputClosed);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data, child._error, child._errorClosed);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits for a stdout or stderr line matching <paramref name="match"/> (one already printed counts).</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            var existing = (_output + "\n" + _error).Split('\n').FirstOrDefault(l => match(l.TrimEnd('\r')));
            if (existing is not null)
                return existing.TrimEnd('\r');
            _watchers.Add((match, found));
        }
        try
        {
            return await found.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"No matching line within {timeout.TotalSeconds} s.\n--- stdout\n{Output}\n--- stderr\n{Error}");
        }
    }

    /// <summary>Closes stdin, waits for the exit (killing it after <paramref name="timeout"/>) and returns what it printed.</summary>
    public async Task<ProcessResult> WaitForExitAsync(TimeSpan timeout, bool closeInput = true)
    {
        if (closeInput)
        {
            try
            {
                _process.StandardInput.Close();
            }
            catch (IOException)
            {
                // It already exited.
            }
        }
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            await Task.WhenAll(_outputClosed.Task, _errorClosed.Task).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"The process did not exit within {timeout.TotalSeconds} s.\n--- stdout\n{Output}\n--- stderr\n{Error}");
        }
        return new ProcessResult(_process.ExitCode, Output, Error);
    }

    /// <summary>Asks it to stop as Ctrl+C or a service manager would (SIGTERM).</summary>
    public void Terminate()
    {
        // The shell's own kill: no dependency on a kill binary being installed.
        using var kill = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "kill -TERM \"$0\"", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            UseShellExecute = false,
        });
        kill?.WaitForExit(5000);
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
        }
        _process.Dispose();
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
    }

    private void OnLine(string? line, StringBuilder into, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }
        List<TaskCompletionSource<string>> hits = [];
        lock (_lock)
        {
            into.Append(line).Append('\n');
            for (var i = _watchers.Count - 1; i >= 0; i--)
            {
                if (_watchers[i].Match(line))
                {
                    hits.Add(_watchers[i].Found);
                    _watchers.RemoveAt(i);
                }
            }
        }
        foreach (var hit in hits)
            hit.TrySetResult(line);
    }
}
