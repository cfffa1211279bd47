using System.Text;
using Paperclip.Client.Commands;
using Paperclip.Client.Interactive;

// The player's command-line client. Every failure ends as one line on stderr and an exit code.
Console.OutputEncoding = Encoding.UTF8;
using var interrupt = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // Ctrl+C leaves a lobby cleanly (CLIENT_DISCONNECT) and ends the program with code 130; at
    // a prompt, or pressed twice, it ends the program at once.
    if (!interrupt.IsCancellationRequested && !ConsoleState.Prompting)
    {
        e.Cancel = true;
        interrupt.Cancel();
    }
};

return await CommandRunner.RunAsync(null, () => new CliContext(
    CommandLine.Parse(args), Console.In, Console.Out, Console.Error, Environment.GetEnvironmentVariable, interrupt.Token)
{
    IsTerminal = !Console.IsInputRedirected && !Console.IsOutputRedirected,
    EchoInput = Console.IsInputRedirected,
}, Console.Error);
