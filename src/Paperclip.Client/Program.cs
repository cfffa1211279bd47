using System.Text;
using Paperclip.Client.Shell;
using Paperclip.Client.Commands;

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

var console = new CliConsole(Console.In, Console.Out, Console.Error, Environment.GetEnvironmentVariable)
{
    IsTerminal = !Console.IsInputRedirected && !Console.IsOutputRedirected,
    EchoInput = Console.IsInputRedirected,
};
return await PaperclipCli.RunAsync(args, console, interrupt.Token);
