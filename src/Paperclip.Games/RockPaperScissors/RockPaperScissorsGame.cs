using System.Text.Json;
using Microsoft.Extensions.Logging;
using Paperclip.Transport;

namespace Paperclip.Games.RockPaperScissors;

/// <summary>Rock-paper-scissors, for two players.</summary>
public sealed partial class RockPaperScissorsGame : IGame
{

    /// <summary>The reliable ordered channel results and presence travel on (protocol version 2).</summary>
    public const int EventsChannel = 0;

    /// <summary>The one place RPS's identity is written: game 1, "RPS", two players.</summary>
    public static GameDescriptor Descriptor { get; } = new(Id: 1, Name: "RPS", MinPlayers: 2, MaxPlayers: 2);

    /// <inheritdoc />
    GameDescriptor IGame.Descriptor => Descriptor;

    /// <inheritdoc />
    public IGameSession CreateSession(GameLobbyContext lobby) => new Session(lobby.Logger);

    /// <summary>
    /// Two seats. A choice is held until the other seat has chosen too (a player may choose
    /// before an opponent sits down); then both get the result and the next round starts. Scores
    /// belong to the pairing: they start again when a player leaves, and the remaining player's
    /// unanswered hand is dropped with the round (the client sends it again). Each player is told
    /// who sits across as they arrive and leave; presence and results travel on one reliable
    /// ordered channel, so a result sent before a departure is never overtaken by it.
    /// </summary>
    private sealed partial class Session(ILogger logger) : IGameSession
    {
        private readonly Lock _lock = new();
        private readonly List<Seat> _seats = [];

        public void PlayerJoined(IGamePlayer player)
        {
            lock (_lock)
            {
                if (_seats.Count >= 2 || _seats.Exists(s => s.Player.AccountId == player.AccountId))
                {
                    player.SendError("This game already has two players.");
                    return;
                }
                // A new pairing starts from zero; a hand already held waits for the newcomer's.
                foreach (var seat in _seats)
                {
                    seat.Score = 0;
                    SendEvent(seat.Player, Presence(PresenceMessage.Joined, player));
                    SendEvent(player, Presence(PresenceMessage.Joined, seat.Player));
                }
                _seats.Add(new Seat(player));
            }
        }

        public void PlayerLeft(IGamePlayer player)
        {
            lock (_lock)
            {
                if (_seats.RemoveAll(s => s.Player.AccountId == player.AccountId) == 0)
                    return;
                foreach (var seat in _seats)
                {
                    seat.Reset();
                    SendEvent(seat.Player, Presence(PresenceMessage.Left, player));
                }
            }
        }

        public void MessageReceived(IGamePlayer player, ReadOnlySpan<byte> message)
        {
            if (!TryReadChoice(message, out var choice, out var problem))
            {
                player.SendError(problem);
                return;
            }
            lock (_lock)
            {
                var seat = _seats.Find(s => s.Player.AccountId == player.AccountId);
                if (seat is null)
                {
                    player.SendError("You are not seated in this game.");
                    return;
                }
                if (seat.Choice is not null)
                {
                    player.SendError("You already chose this round; wait for the other player.");
                    return;
                }
                seat.Choice = choice;
                if (_seats.Count == 2 && _seats.TrueForAll(s => s.Choice is not null))
                    FinishRound(_seats[0], _seats[1]);
            }
        }

        public void Dispose()
        {
        }

        private void FinishRound(Seat first, Seat second)
        {
            var firstOutcome = RpsRules.Play(first.Choice!.Value, second.Choice!.Value);
            if (firstOutcome == Outcome.Win)
                first.Score++;
            else if (firstOutcome == Outcome.Lose)
                second.Score++;
            Send(first, second, firstOutcome);
            Send(second, first, firstOutcome switch { Outcome.Win => Outcome.Lose, Outcome.Lose => Outcome.Win, _ => Outcome.Draw });
            LogRound(logger, first.Player.Username, first.Choice.Value, second.Player.Username, second.Choice.Value, first.Score, second.Score);
            first.Choice = null;
            second.Choice = null;
        }

        private static void Send(Seat to, Seat other, Outcome outcome)
        {
            var result = new RoundResult((int)outcome, (int)to.Choice!.Value, (int)other.Choice!.Value, new Score(to.Score), new Score(other.Score));
            SendEvent(to.Player, JsonSerializer.SerializeToUtf8Bytes(result, RpsJsonContext.Default.RoundResult));
        }

        private static byte[] Presence(string presence, IGamePlayer opponent) =>
            JsonSerializer.SerializeToUtf8Bytes(new PresenceMessage(presence, opponent.Username), RpsJsonContext.Default.PresenceMessage);

        // The game's events in order on the events channel; a version-1 player has no channels and
        // gets them as reliable DEFAULT messages, which may arrive in another order.
        private static void SendEvent(IGamePlayer player, ReadOnlySpan<byte> message)
        {
            if (player.SupportsChannels)
                player.Send(message, Delivery.ReliableOrdered, EventsChannel);
            else
                player.Send(message);
        }

        private static bool TryReadChoice(ReadOnlySpan<byte> message, out Choice choice, out string problem)
        {
            choice = default;
            ChoiceMessage? parsed;
            try
            {
                parsed = JsonSerializer.Deserialize(message, RpsJsonContext.Default.ChoiceMessage);
            }
            catch (JsonException)
            {
                problem = "Send JSON like {\"choice\": 0} (0 = rock, 1 = paper, 2 = scissors).";
                return false;
            }
            if (parsed is null || !Enum.IsDefined((Choice)parsed.Choice))
            {
                problem = "The choice must be 0 (rock), 1 (paper) or 2 (scissors).";
                return false;
            }
            choice = (Choice)parsed.Choice;
            problem = "";
            return true;
        }

        [LoggerMessage(Level = LogLevel.Information, Message = "RPS round: {First} {FirstChoice} vs {Second} {SecondChoice}, score {FirstScore}-{SecondScore}")]
        private static partial void LogRound(ILogger logger, string first, Choice firstChoice, string second, Choice secondChoice, int firstScore, int secondScore);

        private sealed class Seat(IGamePlayer player)
        {
            public IGamePlayer Player { get; } = player;

            public Choice? Choice { get; set; }

            public int Score { get; set; }

            public void Reset()
            {
                Choice = null;
                Score = 0;
            }
        }
    }
}
