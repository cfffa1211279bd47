using Paperclip.Client.Commands;
using Spectre.Console;

namespace Paperclip.Client.Interactive;

/// <summary>Picks Spectre.Console on a terminal, plain lines otherwise (or with <c>--plain</c>).</summary>
internal static class ConsoleUiFactory
{
    /// <summary>True when interactive prompts can use the terminal.</summary>
    public static bool CanUseTerminal(CliContext context) => context.IsTerminal;

    /// <summary>The UI for <paramref name="context"/>.</summary>
    public static IConsoleUi Create(CliContext context) =>
        context.IsTerminal && !context.CommandLine.Flag("plain")
            ? new SpectreConsoleUi(AnsiConsole.Console)
            : new PlainConsoleUi(context.In, context.Out, context.EchoInput);
}
