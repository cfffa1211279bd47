using System.ComponentModel;
using Paperclip.Client.Shell;
using Paperclip.Client.Interactive;
using Spectre.Console.Cli;

namespace Paperclip.Client.Commands;

/// <summary>No command: interactive mode (log in or register, then menus).</summary>
internal sealed class InteractiveCommand(CliConsole console) : CliCommand<InteractiveCommand.Settings>(console)
{
    public sealed class Settings : ConnectionSettings
    {
        [CommandOption("--plain")]
        [Description("Plain lines, without menus drawn on the terminal")]
        public bool Plain { get; init; }
    }

    protected override Task<int> RunAsync(CliContext context, Settings settings) =>
        new InteractiveSession(ConsoleUiFactory.Create(context, settings.Plain), context).RunAsync();
}
