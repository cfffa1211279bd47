using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Paperclip.Backend.Tests.Infrastructure;

/// <summary>
/// What a started <c>Paperclip.Server</c> child process prints: the whole log, and the address of
/// its "Now listening on" line (it binds port 0, so the log is where the port is found).
/// </summary>
public sealed partial class ServerOutput
{
    private readonly StringBuilder _log = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Reads <paramref name="process"/>'s output (attach before it starts); <paramref name="exitedMessage"/> fails <see cref="Listening"/> if it exits first.</summary>
    public ServerOutput(Process process, string exitedMessage)
    {
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.Exited += (_, _) => _listening.TrySetException(new InvalidOperationException(exitedMessage));
    }

    /// <summary>Everything printed so far.</summary>
    public string Text
    {
        get
        {
            lock (_log)
                return _log.ToString();
        }
    }

    /// <summary>The address the server listens on, once it says so.</summary>
    public Task<Uri> Listening => _listening.Task;

    private void OnLine(string? line)
    {
        if (line is null)
            return;
        lock (_log)
            _log.AppendLine(line);
        if (ListeningLine().Match(line) is { Success: true } match)
            _listening.TrySetResult(new Uri(match.Groups[1].Value));
    }

    [GeneratedRegex(@"Now listening on: (http://[^\s]+)")]
    private static partial Regex ListeningLine();
}
