using Paperclip.Client.Shell;
using Spectre.Console;

namespace Paperclip.Client.Interactive;

/// <summary>Picks Spectre.Console on a terminal, plain lines otherwise (or with <c>--plain</c>).</summary>
internal static class ConsoleUiFactory
{
    /// <summary>The UI for <paramref name="context"/>; <paramref name="plain"/> asks for plain lines even on a terminal.</summary>
    public static IConsoleUi Create(CliContext context, bool plain) =>
        context.IsTerminal && !plain
            ? new SpectreConsoleUi(AnsiConsole.Console)
            : new PlainConsoleUi(context.In, context.Out, context.EchoInput);
}
