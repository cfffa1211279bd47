using System.ComponentModel;
using System.Globalization;
using Paperclip.Client.Shell;
using Paperclip.Client.Play;
using Paperclip.Games.RockPaperScissors;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Paperclip.Client.Commands;

/// <summary>
/// The options every command takes: where the server is, who you are, and how long to wait.
/// They may also stand before the command (<see cref="LeadingOptions"/>).
/// </summary>
internal class ConnectionSettings : CommandSettings
{
    /// <summary>The largest <c>--timeout</c>, in seconds (a day).</summary>
    public const double MaxTimeoutSeconds = 86_400;

    [CommandOption("--server <URL>")]
    [Description("The server (PAPERCLIP_SERVER; default " + CliContext.DefaultServer + ")")]
    public string? Server { get; init; }

    [CommandOption("--user <NAME>")]
    [Description("Your username (PAPERCLIP_USER)")]
    public string? User { get; init; }

    [CommandOption("--password <PASSWORD>")]
    [Description("Your password (PAPERCLIP_PASSWORD). Other users of the machine can read a command line: prefer the variable, --password-stdin or the prompt")]
    public string? Password { get; init; }

    [CommandOption("--password-stdin")]
    [Description("Read the password from the first line of the input")]
    public bool PasswordStdin { get; init; }

    [CommandOption("--timeout <SECONDS>")]
    [Description("Longest wait for an opponent or a move")]
    [DefaultValue(60.0)]
    public double TimeoutSeconds { get; init; } = 60;

    public override ValidationResult Validate()
    {
        if (Password is not null && PasswordStdin)
            return ValidationResult.Error("Give the password one way: --password or --password-stdin, not both.");
        if (!(TimeoutSeconds > 0 && TimeoutSeconds <= MaxTimeoutSeconds))
            return ValidationResult.Error(string.Create(CultureInfo.InvariantCulture, $"--timeout takes a number of seconds (up to {MaxTimeoutSeconds}), not '{TimeoutSeconds}'."));
        return ValidationResult.Success();
    }

    /// <summary>The options resolved against the environment.</summary>
    public CliContext CreateContext(CliConsole console, CancellationToken cancellationToken) =>
        new(console, Server, User, Password, PasswordStdin, TimeSpan.FromSeconds(TimeoutSeconds), cancellationToken);
}

/// <summary>The options of the commands that play: the rounds, or an interactive game.</summary>
internal class MatchSettings : ConnectionSettings
{
    [CommandOption("--choices <ROUNDS>")]
    [Description("The rounds to play, e.g. 0,1,2 (0 = rock, 1 = paper, 2 = scissors; or r,p,s). Without it, on a terminal: an interactive game")]
    public string? ChoicesText { get; init; }

    [CommandOption("--plain")]
    [Description("An interactive game on plain lines, without menus drawn on the terminal")]
    public bool Plain { get; init; }

    /// <summary>The rounds of <c>--choices</c> (checked by <see cref="Validate"/>), or null for an interactive game.</summary>
    public IReadOnlyList<Choice>? Rounds =>
        ChoicesText is null ? null
        : Choices.TryParseList(ChoicesText, out var rounds, out var problem) ? rounds
        : throw new UsageException(problem);

    public override ValidationResult Validate()
    {
        var connection = base.Validate();
        if (!connection.Successful || ChoicesText is null)
            return connection;
        return Choices.TryParseList(ChoicesText, out _, out var problem) ? connection : ValidationResult.Error(problem);
    }
}

/// <summary>The base of every command: resolves the connection options, then runs.</summary>
internal abstract class CliCommand<TSettings>(CliConsole console) : AsyncCommand<TSettings>
    where TSettings : ConnectionSettings
{
    public sealed override Task<int> ExecuteAsync(CommandContext context, TSettings settings, CancellationToken cancellationToken) =>
        RunAsync(settings.CreateContext(console, cancellationToken), settings);

    /// <summary>Runs the command; its failures become exit codes in <see cref="PaperclipCli"/>.</summary>
    protected abstract Task<int> RunAsync(CliContext context, TSettings settings);
}
