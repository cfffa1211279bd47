using System.Collections.Concurrent;
using System.Collections.ObjectModel;
using System.Diagnostics;

namespace Paperclip.LoadTest;

/// <summary>
/// This program again, as one side of a scenario (<c>child …</c>): the clients, so the parent's CPU
/// is the server's alone, or (density) the servers, so that process holds nothing else. The child
/// reports on stdout, one line per event, and takes commands on stdin; its stderr is forwarded.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = [];
    private readonly string _role;

    private ChildProcess(Process process, string role)
    {
        _process = process;
        _role = role;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
                _lines.Add(line);
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
                Console.Error.WriteLine($"  [{role}] " + line);
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Starts <c>child</c> with <paramref name="arguments"/> and <paramref name="environment"/> over this process's; <paramref name="role"/> names it in messages.</summary>
    public static ChildProcess Start(IEnumerable<string> arguments, string role = "clients", IReadOnlyDictionary<string, string>? environment = null)
    {
        var path = Environment.ProcessPath ?? throw new InvalidOperationException("No process path.");
        var info = new ProcessStartInfo(path)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        // Started as `dotnet Paperclip.LoadTest.dll`: the child needs the assembly path too.
        if (Path.GetFileNameWithoutExtension(path).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            info.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        // A tracer that started this process (dotnet-trace collect -- …) suspends every runtime
        // that inherits its diagnostic port: the child would wait for it forever.
        info.Environment.Remove("DOTNET_DiagnosticPorts");
        foreach (var (name, value) in environment ?? ReadOnlyDictionary<string, string>.Empty)
            info.Environment[name] = value;
        info.ArgumentList.Add("child");
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        return new ChildProcess(Process.Start(info) ?? throw new InvalidOperationException($"The {role} process did not start."), role);
    }

    /// <summary>Sends the child one command line (stdin is auto-flushed).</summary>
    public void Tell(string line) => _process.StandardInput.WriteLine(line);

    /// <summary>The next line starting with <paramref name="prefix"/> (others are echoed), or an exception after the timeout.</summary>
    public string WaitFor(string prefix, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var left = (deadline - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency;
            if (left <= 0 || !_lines.TryTake(out var line, (int)Math.Min(left, 200)))
            {
                if (left <= 0)
                    throw new TimeoutException($"The {_role} process did not report '{prefix}' within {timeout.TotalSeconds} s.");
                if (_process.HasExited && _lines.Count == 0)
                    throw new InvalidOperationException($"The {_role} process exited ({_process.ExitCode}) before reporting '{prefix}'.");
                continue;
            }
            if (line.StartsWith(prefix, StringComparison.Ordinal))
                return line[prefix.Length..].Trim();
            if (line.StartsWith("ERROR", StringComparison.Ordinal))
                throw new InvalidOperationException($"The {_role} process failed: " + line);
            Console.Error.WriteLine($"  [{_role}] " + line);
        }
    }

    /// <summary>Waits for the child to exit; kills it after <paramref name="timeout"/>.</summary>
    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.Dispose();
        _lines.Dispose();
    }
}
