using System.Globalization;
using Paperclip.Client.Api;
using Paperclip.Client.Shell;
using Paperclip.Client.Play;
using Paperclip.Games.RockPaperScissors;

namespace Paperclip.Client.Interactive;

/// <summary>
/// Playing rock-paper-scissors interactively: join the lobby, wait for an opponent, then a
/// prompt per round (r, p, s, or q to leave), each result and the running score.
/// </summary>
internal static class GameScreen
{
    private const string MovePrompt = "Your move: r = rock, p = paper, s = scissors, q = leave";

    /// <summary>Plays in <paramref name="lobby"/> until the player leaves or the session ends; errors are shown, not thrown.</summary>
    public static async Task RunAsync(IConsoleUi ui, CliContext context, PaperclipApi api, LobbyInfo lobby, string password)
    {
        ui.Title(string.Create(CultureInfo.InvariantCulture, $"Lobby {lobby.LobbyId}: rock, paper, scissors"));
        RpsMatch match;
        try
        {
            match = await ui.WaitAsync("Connecting to the game server...",
                (_, token) => RpsMatch.JoinAsync(api, lobby, password, cancellationToken: token), context.CancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            ui.Info("Cancelled.");
            return;
        }
        catch (Exception e) when (IsExpected(e))
        {
            ui.Error(ErrorMessages.Describe(e));
            return;
        }

        await using (match.ConfigureAwait(false))
        {
            ui.Info(string.Create(CultureInfo.InvariantCulture, $"Joined lobby {lobby.LobbyId} at {LobbyText.Address(lobby)}."));
            Action<string>? status = null;
            match.StatusChanged += (_, s) =>
            {
                switch (s)
                {
                    case MatchStatus.WaitingForOpponent:
                        status?.Invoke("Waiting for an opponent...");
                        break;
                    case MatchStatus.OpponentPresent:
                        ui.Success($"{match.Opponent} sat down: your opponent is here.");
                        break;
                    case MatchStatus.OpponentLeft:
                        ui.Warning($"{match.Opponent} left; the score starts again with the next one.");
                        status?.Invoke("Waiting for an opponent...");
                        break;
                    case MatchStatus.WaitingForOtherChoice:
                        status?.Invoke("Waiting for the other player's move...");
                        break;
                }
            };

            try
            {
                await WaitAsync(ui, context, "Waiting for an opponent...", s => status = s, async token =>
                {
                    await match.WaitForOpponentAsync(token).ConfigureAwait(false);
                    return true;
                }, "No opponent joined").ConfigureAwait(false);
                while (true)
                {
                    var answer = ui.Ask(MovePrompt)?.Trim();
                    if (answer is null || answer.Equals("q", StringComparison.OrdinalIgnoreCase) || answer.Equals("quit", StringComparison.OrdinalIgnoreCase))
                        break;
                    if (!Choices.TryParse(answer, out var choice))
                    {
                        ui.Warning("Type r (rock), p (paper), s (scissors), or q to leave.");
                        continue;
                    }
                    RoundResult result;
                    try
                    {
                        result = await WaitAsync(ui, context, "Waiting for the other player's move...", s => status = s, token => match.PlayAsync(choice, token), "The other player did not play").ConfigureAwait(false);
                    }
                    catch (RpsGameException e)
                    {
                        ui.Warning(ErrorMessages.Describe(e));
                        continue;
                    }
                    var line = string.Create(CultureInfo.InvariantCulture, $"Round {match.Rounds}: {Choices.Describe(result)}");
                    switch ((Outcome)result.Outcome)
                    {
                        case Outcome.Win:
                            ui.Success(line);
                            break;
                        case Outcome.Lose:
                            ui.Warning(line);
                            break;
                        default:
                            ui.Info(line);
                            break;
                    }
                }
            }
            catch (LeftException)
            {
            }
            catch (Exception e) when (IsExpected(e))
            {
                ui.Error(ErrorMessages.Describe(e));
            }
            ui.Info(string.Create(CultureInfo.InvariantCulture, $"Left lobby {lobby.LobbyId}. {LobbyText.FinalScore(match.Score, match.OtherScore)}"));
        }
    }

    private static async Task<T> WaitAsync<T>(IConsoleUi ui, CliContext context, string initial, Action<Action<string>?> setStatus,
        Func<CancellationToken, Task<T>> work, string timeoutText)
    {
        // On a terminal the player can wait as long as they like (q leaves); on plain lines --timeout bounds every wait.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        if (!ui.IsTerminal)
            timeout.CancelAfter(context.Timeout);
        try
        {
            return await ui.WaitAsync(initial, (status, token) =>
            {
                setStatus(status);
                return work(token);
            }, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            if (timeout.IsCancellationRequested)
            {
                ui.Warning(string.Create(CultureInfo.InvariantCulture, $"{timeoutText} within {context.Timeout.TotalSeconds:0.#} s; leaving the lobby."));
            }
            throw new LeftException();
        }
        finally
        {
            setStatus(null);
        }
    }

    /// <summary>Failures shown as a message (everything a player can cause or meet).</summary>
    public static bool IsExpected(Exception e) => e is not (OutOfMemoryException or StackOverflowException or InvalidProgramException) && e is not LeftException;

    private sealed class LeftException : Exception;
}
