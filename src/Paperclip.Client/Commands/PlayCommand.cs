using System.ComponentModel;
using System.Globalization;
using Paperclip.Client.Api;
using Paperclip.Client.Shell;
using Paperclip.Client.Interactive;
using Paperclip.Client.Play;
using Paperclip.Games.RockPaperScissors;
using Spectre.Console.Cli;

namespace Paperclip.Client.Commands;

/// <summary><c>play [--game RPS] --choices 0,1,2</c>: matchmakes and plays (the game defaults to the one this client plays).</summary>
internal sealed class PlayCommand(CliConsole console) : CliCommand<PlayCommand.Settings>(console)
{
    public sealed class Settings : MatchSettings
    {
        [CommandOption("--game <GAME>")]
        [Description("The game's name or id (default: rock-paper-scissors, the one game this client plays)")]
        public string? Game { get; init; }

        public override Spectre.Console.ValidationResult Validate() =>
            Game is null || string.Equals(Game, Rps.Name, StringComparison.OrdinalIgnoreCase) || Game == Rps.Id.ToString(CultureInfo.InvariantCulture)
                ? base.Validate()
                : Spectre.Console.ValidationResult.Error($"This client plays rock-paper-scissors only: use --game {Rps.Name}, not '{Game}'.");
    }

    private static Paperclip.Games.GameDescriptor Rps => RockPaperScissorsGame.Descriptor;

    protected override Task<int> RunAsync(CliContext context, Settings settings) =>
        JoinAndPlayAsync(context, settings, api => api.MatchmakeAsync(settings.Game ?? Rps.Name, context.CancellationToken));

    /// <summary>
    /// Logs in, finds the lobby, joins it and plays the rounds of <c>--choices</c>; without
    /// <c>--choices</c> on a terminal, plays interactively.
    /// </summary>
    public static async Task<int> JoinAndPlayAsync(CliContext context, MatchSettings settings, Func<PaperclipApi, Task<LobbyInfo>> findLobby)
    {
        var choices = settings.Rounds;
        if (choices is null && !context.IsTerminal)
            throw new UsageException("Give the rounds to play with --choices 0,1,2 (0 = rock, 1 = paper, 2 = scissors), or run it on a terminal to play interactively.");

        var (_, password) = context.RequireCredentials();
        using var api = await context.LoginAsync().ConfigureAwait(false);
        var lobby = await findLobby(api).ConfigureAwait(false);
        if (lobby.GameId != RockPaperScissorsGame.Descriptor.Id)
            throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"Lobby {lobby.LobbyId} runs game {lobby.GameId}; this client plays rock-paper-scissors only."));
        if (choices is null)
        {
            await GameScreen.RunAsync(ConsoleUiFactory.Create(context, settings.Plain), context, api, lobby, password).ConfigureAwait(false);
            return PaperclipCli.Ok;
        }
        return await PlayScriptAsync(context, api, lobby, password, choices).ConfigureAwait(false);
    }

    /// <summary>Plays <paramref name="choices"/> in <paramref name="lobby"/>, printing each round and the final score.</summary>
    private static async Task<int> PlayScriptAsync(CliContext context, PaperclipApi api, LobbyInfo lobby, string password, IReadOnlyList<Choice> choices)
    {
        var output = context.Out;
        var timeout = context.Timeout;
        await using var match = await RpsMatch.JoinAsync(api, lobby, password, cancellationToken: context.CancellationToken).ConfigureAwait(false);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Joined lobby {lobby.LobbyId} (RPS) at {LobbyText.Address(lobby)} as {api.Username}."));
        var waitingForOpponent = false;
        match.StatusChanged += (_, status) =>
        {
            switch (status)
            {
                case MatchStatus.WaitingForOpponent:
                    waitingForOpponent = true;
                    output.WriteLine("Waiting for an opponent...");
                    break;
                case MatchStatus.OpponentPresent:
                    waitingForOpponent = false;
                    output.WriteLine($"{match.Opponent} sat down: your opponent is here.");
                    break;
                case MatchStatus.OpponentLeft:
                    output.WriteLine($"{match.Opponent} left; the score starts again with the next one.");
                    break;
            }
        };

        for (var round = 1; round <= choices.Count; round++)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
            wait.CancelAfter(timeout);
            RoundResult result;
            try
            {
                result = await match.PlayAsync(choices[round - 1], wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
            {
                var seconds = timeout.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);
                throw new WaitTimeoutException(waitingForOpponent
                    ? $"No opponent joined within {seconds} s."
                    : $"The other player did not play within {seconds} s.");
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Round {round}: {Choices.Describe(result)}"));
        }
        output.WriteLine(LobbyText.FinalScore(match.Score, match.OtherScore));
        return PaperclipCli.Ok;
    }
}
