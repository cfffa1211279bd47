using Paperclip.Client.Shell;
using Spectre.Console.Cli;

namespace Paperclip.Client.Commands;

/// <summary>The command line: its commands, and every failure turned into one line on stderr and an exit code.</summary>
internal static class PaperclipCli
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary>The command failed (server unreachable, wrong password, full lobby…).</summary>
    public const int Failed = 1;

    /// <summary>The command line is wrong.</summary>
    public const int Usage = 2;

    /// <summary>Interrupted (Ctrl+C).</summary>
    public const int Cancelled = 130;

    /// <summary>Runs <paramref name="args"/>; never throws.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, CliConsole console, CancellationToken cancellationToken)
    {
        try
        {
            return await CreateApp(console).RunAsync(LeadingOptions.MoveAfterCommand(args), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is UsageException || (e is CommandAppException && e is not CommandConfigurationException))
        {
            await console.Error.WriteLineAsync($"{e.Message} (paperclip --help lists the commands.)").ConfigureAwait(false);
            return Usage;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await console.Error.WriteLineAsync("Cancelled.").ConfigureAwait(false);
            return Cancelled;
        }
        catch (Exception e) when (e is not (OutOfMemoryException or StackOverflowException))
        {
            await console.Error.WriteLineAsync(ErrorMessages.Describe(e)).ConfigureAwait(false);
            if (console.Environment("PAPERCLIP_DEBUG") is "1" or "true")
                await console.Error.WriteLineAsync(e.ToString()).ConfigureAwait(false);
            return Failed;
        }
    }

    // Shown by --help: a command line for every command.
    private static readonly string[][] Examples =
    [
        ["--user", "Luigi", "register"],
        ["--user", "Luigi", "login"],
        ["friends", "list"],
        ["friends", "add", "Mario"],
        ["friends", "remove", "Mario"],
        ["games"],
        ["lobbies", "list"],
        ["lobbies", "members"],
        ["lobbies", "friends"],
        ["lobbies", "show", "3"],
        ["lobbies", "create", "--game", "RPS"],
        ["lobbies", "matchmake", "--game", "RPS"],
        ["lobbies", "join", "3", "--choices", "r,p,s"],
        ["play", "--game", "RPS", "--choices", "0,1,2"],
    ];

    private static CommandApp<InteractiveCommand> CreateApp(CliConsole console)
    {
        var app = new CommandApp<InteractiveCommand>();
        app.WithDescription("The Paperclip player's client. Without a command: interactive mode (log in or register, then menus). "
            + "Commands exit with 0 on success, else print one line on stderr: 1 when the command failed, 2 when the command line is wrong.");
        app.Configure(config =>
        {
            config.SetApplicationName("paperclip");
            config.SetApplicationVersion((typeof(PaperclipCli).Assembly.GetName().Version ?? new Version(1, 0)).ToString(3));
            config.CaseSensitivity(CaseSensitivity.None);
            config.PropagateExceptions();
            config.Settings.StrictParsing = true; // an option a command does not take is a mistake, not an extra argument
            config.Settings.Registrar.RegisterInstance(console);

            foreach (var example in Examples)
                config.AddExample(example);

            config.AddCommand<RegisterCommand>("register").WithDescription("Create the account of --user and the password");
            config.AddCommand<LoginCommand>("login").WithDescription("Check the credentials and print a session token");
            config.AddBranch("friends", friends =>
            {
                friends.SetDescription("Your friends (without a subcommand: list)");
                friends.SetDefaultCommand<FriendsListCommand>();
                friends.AddCommand<FriendsListCommand>("list").WithDescription("Your friends, one per line");
                friends.AddCommand<FriendsAddCommand>("add").WithDescription("Befriend NAME");
                friends.AddCommand<FriendsRemoveCommand>("remove").WithDescription("Stop being friends with NAME");
            });
            config.AddCommand<GamesCommand>("games").WithDescription("The games catalogue (id and name)");
            config.AddBranch("lobbies", lobbies =>
            {
                lobbies.SetDescription("Lobbies (without a subcommand: list)");
                lobbies.SetDefaultCommand<LobbiesListCommand>();
                lobbies.AddCommand<LobbiesListCommand>("list").WithDescription("Every lobby: id, game, players");
                lobbies.AddCommand<LobbiesMembersCommand>("members").WithDescription("Who is in each lobby");
                lobbies.AddCommand<LobbiesFriendsCommand>("friends").WithDescription("Your friends' lobbies that have space");
                lobbies.AddCommand<LobbiesShowCommand>("show").WithDescription("One lobby's address and players");
                lobbies.AddCommand<LobbiesCreateCommand>("create").WithDescription("Create a lobby (a place is kept for you for 30 s)");
                lobbies.AddCommand<LobbiesMatchmakeCommand>("matchmake").WithDescription("Find a lobby with space, or create one");
                lobbies.AddCommand<LobbiesJoinCommand>("join").WithDescription("Join lobby ID and play the rounds of --choices");
            }).WithAlias("lobby");
            config.AddCommand<PlayCommand>("play").WithDescription("Matchmake and play the rounds of --choices");
        });
        return app;
    }
}
