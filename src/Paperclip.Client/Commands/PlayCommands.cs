using System.Globalization;
using Paperclip.Client.Api;
using Paperclip.Client.Interactive;
using Paperclip.Client.Play;
using Paperclip.Games.RockPaperScissors;

namespace Paperclip.Client.Commands;

/// <summary>A wait for an opponent or a move took longer than <c>--timeout</c>.</summary>
internal sealed class WaitTimeoutException(string message) : Exception(message);

/// <summary><c>play --game RPS --choices 0,1,2</c> (matchmaking) and <c>lobbies join ID --choices …</c>.</summary>
internal static class PlayCommands
{
    public static async Task<int> PlayAsync(CliContext context)
    {
        CommandRunner.ExpectWords(context, 1);
        var game = LobbiesCommands.Game(context);
        if (!IsRps(game))
            throw new UsageException($"This client plays rock-paper-scissors only: use --game RPS, not '{game}'.");
        return await JoinAndPlayAsync(context, api => api.MatchmakeAsync(game, context.CancellationToken)).ConfigureAwait(false);
    }

    /// <summary>
    /// Logs in, finds the lobby, joins it and plays the rounds of <c>--choices</c>; without
    /// <c>--choices</c> on a terminal, plays interactively.
    /// </summary>
    public static async Task<int> JoinAndPlayAsync(CliContext context, Func<PaperclipApi, Task<LobbyInfo>> findLobby)
    {
        var choicesText = context.CommandLine.Option("choices");
        IReadOnlyList<Choice>? choices = null;
        if (choicesText is not null && !Choices.TryParseList(choicesText, out choices, out var problem))
            throw new UsageException(problem);
        var interactive = choices is null;
        if (interactive && !ConsoleUiFactory.CanUseTerminal(context))
            throw new UsageException("Give the rounds to play with --choices 0,1,2 (0 = rock, 1 = paper, 2 = scissors), or run it on a terminal to play interactively.");

        var (_, password) = context.RequireCredentials();
        using var api = await context.LoginAsync().ConfigureAwait(false);
        var lobby = await findLobby(api).ConfigureAwait(false);
        if (lobby.GameId != RockPaperScissorsGame.GameId)
            throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"Lobby {lobby.LobbyId} runs game {lobby.GameId}; this client plays rock-paper-scissors only."));
        if (interactive)
        {
            var ui = ConsoleUiFactory.Create(context);
            await GameScreen.RunAsync(ui, context, api, lobby, password).ConfigureAwait(false);
            return 0;
        }
        return await PlayScriptAsync(context, api, lobby, password, choices!).ConfigureAwait(false);
    }

    /// <summary>Plays <paramref name="choices"/> in <paramref name="lobby"/>, printing each round and the final score.</summary>
    public static async Task<int> PlayScriptAsync(CliContext context, PaperclipApi api, LobbyInfo lobby, string password, IReadOnlyList<Choice> choices)
    {
        var output = context.Out;
        var timeout = context.Timeout;
        await using var match = await JoinAsync(context, api, lobby, password).ConfigureAwait(false);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Joined lobby {lobby.LobbyId} (RPS) at {LobbiesCommands.Address(lobby)} as {api.Username}."));
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
                    output.WriteLine("Your opponent is here.");
                    break;
                case MatchStatus.OpponentLeft:
                    output.WriteLine("Your opponent left; the score starts again with the next one.");
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
        output.WriteLine(FinalScore(match.Score, match.OtherScore));
        return 0;
    }

    /// <summary>Joins with the timeout as the handshake limit.</summary>
    public static Task<RpsMatch> JoinAsync(CliContext context, PaperclipApi api, LobbyInfo lobby, string password) =>
        RpsMatch.JoinAsync(api, lobby, password, new RpsMatchOptions(), context.CancellationToken);

    /// <summary><c>Final score: you 2, opponent 1. You won.</c></summary>
    public static string FinalScore(int mine, int theirs) =>
        string.Create(CultureInfo.InvariantCulture, $"Final score: you {mine}, opponent {theirs}. {(mine > theirs ? "You won." : mine < theirs ? "You lost." : "A tie.")}");

    private static bool IsRps(string game) =>
        string.Equals(game, "RPS", StringComparison.OrdinalIgnoreCase)
        || game == RockPaperScissorsGame.GameId.ToString(CultureInfo.InvariantCulture);
}
