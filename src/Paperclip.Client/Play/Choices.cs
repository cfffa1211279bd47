using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Paperclip.Games.RockPaperScissors;

namespace Paperclip.Client.Play;

/// <summary>Reading and naming rock-paper-scissors hands and results.</summary>
public static class Choices
{
    /// <summary>Reads a hand: <c>0</c>/<c>1</c>/<c>2</c>, <c>r</c>/<c>p</c>/<c>s</c> or <c>rock</c>/<c>paper</c>/<c>scissors</c>, any case.</summary>
    public static bool TryParse(string? text, out Choice choice)
    {
        choice = default;
        switch (text?.Trim().ToUpperInvariant())
        {
            case "0" or "R" or "ROCK":
                choice = Choice.Rock;
                return true;
            case "1" or "P" or "PAPER":
                choice = Choice.Paper;
                return true;
            case "2" or "S" or "SCISSORS":
                choice = Choice.Scissors;
                return true;
            default:
                return false;
        }
    }

    /// <summary>Reads a comma-separated list of hands, e.g. <c>0,1,2</c> or <c>rock,paper</c>.</summary>
    public static bool TryParseList(string? text, [NotNullWhen(true)] out IReadOnlyList<Choice>? choices, [NotNullWhen(false)] out string? problem)
    {
        choices = null;
        problem = null;
        var parts = (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            problem = "Give at least one choice, e.g. --choices 0,1,2 (0 = rock, 1 = paper, 2 = scissors).";
            return false;
        }
        var list = new List<Choice>(parts.Length);
        foreach (var part in parts)
        {
            if (!TryParse(part, out var choice))
            {
                problem = $"'{part}' is not a choice: use 0 (rock), 1 (paper) or 2 (scissors).";
                return false;
            }
            list.Add(choice);
        }
        choices = list;
        return true;
    }

    /// <summary>The hand's name in lower case: rock, paper, scissors.</summary>
    public static string Name(Choice choice) => choice switch
    {
        Choice.Rock => "rock",
        Choice.Paper => "paper",
        Choice.Scissors => "scissors",
        _ => ((int)choice).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>The hand's name for a wire value.</summary>
    public static string Name(int choice) => Name((Choice)choice);

    /// <summary>What the outcome means for the player: "you win", "you lose", "draw".</summary>
    public static string Describe(Outcome outcome) => outcome switch
    {
        Outcome.Win => "you win",
        Outcome.Lose => "you lose",
        _ => "draw",
    };

    /// <summary>One line for a round: <c>you chose rock, they chose scissors: you win. Score 1-0.</c></summary>
    public static string Describe(RoundResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return string.Create(CultureInfo.InvariantCulture,
            $"you chose {Name(result.Choice)}, they chose {Name(result.OtherChoice)}: {Describe((Outcome)result.Outcome)}. Score {result.Score.Value}-{result.OtherScore.Value}.");
    }
}
