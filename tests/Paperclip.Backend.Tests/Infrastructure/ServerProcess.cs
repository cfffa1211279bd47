using System.Diagnostics;

namespace Paperclip.Backend.Tests.Infrastructure;

/// <summary>The built server as a real process, for what only a process shows: its exit code and output at start.</summary>
internal static class ServerProcess
{
    /// <summary>
    /// Runs the server in <paramref name="directory"/> (where it looks for <c>.env</c>) on an OS-chosen
    /// port with no log files, plus <paramref name="arguments"/>, until it exits (killed after 90 s).
    /// </summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunUntilExitAsync(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "Paperclip.Server.dll"), "--urls", "http://127.0.0.1:0", "--Paperclip:LogDirectory=" }.Concat(arguments))
            start.ArgumentList.Add(argument);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        using var process = Process.Start(start)!;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(90));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
        return (process.ExitCode, await output, await error);
    }
}
