namespace Paperclip.Client.Tests.Infrastructure;

/// <summary>The client (<c>Paperclip.Client.dll</c> next to the tests) as a child process.</summary>
public static class Cli
{
    /// <summary>The longest any single CLI run may take in a test.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    /// <summary>The client's own copy (with its own dependencies), made by the project file's CopyClientProgram target.</summary>
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "cli", "Paperclip.Client.dll");

    /// <summary>Starts the CLI; the caller writes its input and waits for it.</summary>
    public static ChildProcess Start(IEnumerable<string> args, IDictionary<string, string?>? environment = null) =>
        ChildProcess.Start(Dll, args, environment: environment);

    /// <summary>Runs the CLI to its end with <paramref name="input"/> on stdin (none when null).</summary>
    public static async Task<ProcessResult> RunAsync(IEnumerable<string> args, string? input = null, IDictionary<string, string?>? environment = null)
    {
        await using var process = Start(args, environment);
        if (input is not null)
        {
            await process.Input.WriteAsync(input);
            await process.Input.FlushAsync();
        }
        return await process.WaitForExitAsync(Timeout);
    }
}
