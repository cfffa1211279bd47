using System.Globalization;
using Paperclip.Client.Interactive;

namespace Paperclip.Client.Commands;

/// <summary>Reads the command line, runs the command and turns every failure into one line on stderr and an exit code.</summary>
internal static class CommandRunner
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary>The command failed (server unreachable, wrong password, full lobby…).</summary>
    public const int Failed = 1;

    /// <summary>The command line is wrong.</summary>
    public const int Usage = 2;

    /// <summary>Interrupted (Ctrl+C).</summary>
    public const int Cancelled = 130;

    public const string HelpText = """
        paperclip - the Paperclip player's client

        Usage: paperclip [options] [command]

        Without a command: interactive mode (log in or register, then menus).

        Commands (for scripts; exit code 0 on success, else a one-line message on stderr):
          register                       create the account --user/--password
          login                          check the credentials and print a session token
          friends list                   your friends, one per line
          friends add NAME               befriend NAME
          friends remove NAME            stop being friends with NAME
          games                          the games catalogue (id and name)
          lobbies list                   every lobby: id, game, players
          lobbies members                who is in each lobby
          lobbies friends                your friends' lobbies that have space
          lobbies show ID                one lobby's address and players
          lobbies create [--game RPS]    create a lobby (a place is kept for you for 30 s)
          lobbies matchmake [--game RPS] find a lobby with space, or create one
          lobbies join ID --choices C    join lobby ID and play the rounds C
          play [--game RPS] --choices C  matchmake and play the rounds C, e.g. --choices 0,1,2
                                         (0 = rock, 1 = paper, 2 = scissors; or r,p,s)
          help                           this text

        Options:
          --server URL      the server (PAPERCLIP_SERVER; default http://127.0.0.1:5000)
          --user NAME       your username (PAPERCLIP_USER)
          --password PW     your password (PAPERCLIP_PASSWORD)
          --timeout S       longest wait for an opponent or a move, in seconds (default 60)
          --plain           interactive mode on plain lines, without menus drawn on the terminal
          --help, --version
        """;

    /// <summary>Runs the command line; never throws.</summary>
    public static async Task<int> RunAsync(CliContext? context, Func<CliContext> createContext, TextWriter error)
    {
        try
        {
            context ??= createContext();
            return await DispatchAsync(context).ConfigureAwait(false);
        }
        catch (UsageException e)
        {
            await error.WriteLineAsync($"{e.Message} (paperclip --help lists the commands.)").ConfigureAwait(false);
            return Usage;
        }
        catch (OperationCanceledException) when (context?.CancellationToken.IsCancellationRequested == true)
        {
            await error.WriteLineAsync("Cancelled.").ConfigureAwait(false);
            return Cancelled;
        }
        catch (Exception e) when (e is not (OutOfMemoryException or StackOverflowException))
        {
            await error.WriteLineAsync(ErrorMessages.Describe(e)).ConfigureAwait(false);
            if (Environment.GetEnvironmentVariable("PAPERCLIP_DEBUG") is "1" or "true")
                await error.WriteLineAsync(e.ToString()).ConfigureAwait(false);
            return Failed;
        }
    }

    private static Task<int> DispatchAsync(CliContext context)
    {
        var line = context.CommandLine;
        if (line.Flag("version"))
        {
            var version = typeof(CommandRunner).Assembly.GetName().Version ?? new Version(1, 0);
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"paperclip {version.ToString(3)}"));
            return Task.FromResult(Ok);
        }
        var command = line.Word(0)?.ToLowerInvariant();
        if (line.Flag("help") || command == "help")
        {
            context.Out.WriteLine(HelpText);
            return Task.FromResult(Ok);
        }
        return command switch
        {
            null => new InteractiveSession(ConsoleUiFactory.Create(context), context).RunAsync(),
            "register" => AccountCommands.RegisterAsync(context),
            "login" => AccountCommands.LoginAsync(context),
            "friends" => FriendsCommands.RunAsync(context),
            "games" => GamesCommands.RunAsync(context),
            "lobbies" or "lobby" => LobbiesCommands.RunAsync(context),
            "play" => PlayCommands.PlayAsync(context),
            _ => throw new UsageException($"Unknown command '{line.Word(0)}'."),
        };
    }

    /// <summary>Refuses extra words after a command's own.</summary>
    public static void ExpectWords(CliContext context, int count)
    {
        if (context.CommandLine.Words.Count > count)
            throw new UsageException($"Unexpected '{context.CommandLine.Words[count]}'.");
    }
}
