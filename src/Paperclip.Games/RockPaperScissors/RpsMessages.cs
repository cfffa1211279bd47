using System.Text.Json.Serialization;

namespace Paperclip.Games.RockPaperScissors;

/// <summary>A hand.</summary>
public enum Choice
{
    /// <summary>Beats scissors.</summary>
    Rock = 0,
    /// <summary>Beats rock.</summary>
    Paper = 1,
    /// <summary>Beats paper.</summary>
    Scissors = 2,
}

/// <summary>A round's result for one player.</summary>
public enum Outcome
{
    /// <summary>The other player won.</summary>
    Lose = 0,
    /// <summary>This player won.</summary>
    Win = 1,
    /// <summary>Same hands.</summary>
    Draw = 2,
}

/// <summary>What a player sends: <c>{"choice": 0|1|2}</c>.</summary>
public sealed record ChoiceMessage([property: JsonPropertyName("choice"), JsonRequired] int Choice);

/// <summary>A player's score: <c>{"score": n}</c>.</summary>
public sealed record Score([property: JsonPropertyName("score")] int Value);

/// <summary>What each player receives after a round.</summary>
public sealed record RoundResult(
    [property: JsonPropertyName("outcome")] int Outcome,
    [property: JsonPropertyName("choice")] int Choice,
    [property: JsonPropertyName("otherChoice")] int OtherChoice,
    [property: JsonPropertyName("score")] Score Score,
    [property: JsonPropertyName("otherScore")] Score OtherScore);

/// <summary>
/// Who sits across: <c>{"presence": "joined", "opponent": "Peach"}</c> when an opponent sits
/// down (or is already seated when the player arrives), <c>"left"</c> when they leave.
/// </summary>
public sealed record PresenceMessage(
    [property: JsonPropertyName("presence"), JsonRequired] string Presence,
    [property: JsonPropertyName("opponent"), JsonRequired] string Opponent)
{
    /// <summary>The opponent sat down.</summary>
    public const string Joined = "joined";

    /// <summary>The opponent left.</summary>
    public const string Left = "left";
}

/// <summary>Source-generated JSON for the RPS messages (no reflection on the game path).</summary>
[JsonSerializable(typeof(ChoiceMessage))]
[JsonSerializable(typeof(RoundResult))]
[JsonSerializable(typeof(PresenceMessage))]
public sealed partial class RpsJsonContext : JsonSerializerContext;

/// <summary>The rules.</summary>
public static class RpsRules
{
    /// <summary>The outcome for the player who chose <paramref name="mine"/> against <paramref name="theirs"/>.</summary>
    public static Outcome Play(Choice mine, Choice theirs) =>
        mine == theirs ? Outcome.Draw : ((int)mine - (int)theirs + 3) % 3 == 1 ? Outcome.Win : Outcome.Lose;
}
