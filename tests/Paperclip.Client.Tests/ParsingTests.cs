using Paperclip.Client.Commands;
using Paperclip.Client.Interactive;
using Paperclip.Client.Play;
using Paperclip.Games.RockPaperScissors;

namespace Paperclip.Client.Tests;

/// <summary>The command line, hands and menu answers, without processes.</summary>
public sealed class ParsingTests
{
    [Fact]
    public void Options_stand_anywhere_in_both_forms()
    {
        var line = CommandLine.Parse(["friends", "--server=http://h:1", "add", "--user", "Mario", "Peach", "--plain"]);
        Assert.Equal(["friends", "add", "Peach"], line.Words);
        Assert.Equal("http://h:1", line.Option("server"));
        Assert.Equal("Mario", line.Option("user"));
        Assert.True(line.Flag("plain"));
        Assert.Null(line.Option("password"));
    }

    [Theory]
    [InlineData("--nope")]
    [InlineData("-x")]
    [InlineData("--user")]
    [InlineData("--plain=yes")]
    public void Mistakes_are_usage_errors(string arg) =>
        Assert.Throws<UsageException>(() => CommandLine.Parse(["games", arg]));

    [Theory]
    [InlineData("0", Choice.Rock)]
    [InlineData("r", Choice.Rock)]
    [InlineData(" Paper ", Choice.Paper)]
    [InlineData("S", Choice.Scissors)]
    [InlineData("2", Choice.Scissors)]
    public void Hands_are_read_as_numbers_letters_or_words(string text, Choice expected)
    {
        Assert.True(Choices.TryParse(text, out var choice));
        Assert.Equal(expected, choice);
    }

    [Fact]
    public void Lists_of_hands_name_the_bad_one()
    {
        Assert.True(Choices.TryParseList("0, p,scissors", out var choices, out _));
        Assert.Equal([Choice.Rock, Choice.Paper, Choice.Scissors], choices);
        Assert.False(Choices.TryParseList("0,lizard", out _, out var problem));
        Assert.Contains("'lizard'", problem, StringComparison.Ordinal);
        Assert.False(Choices.TryParseList("", out _, out _));
    }

    [Theory]
    [InlineData("2", "Add a friend")]
    [InlineData("list", "List friends")]
    [InlineData("REMOVE", "Remove a friend")]
    [InlineData("remove a friend", "Remove a friend")]
    [InlineData("ba", "Back")]
    [InlineData("9", null)]
    [InlineData("", null)]
    [InlineData("zzz", null)]
    public void Menu_answers_are_numbers_words_or_unique_beginnings(string answer, string? expected) =>
        Assert.Equal(expected, PlainConsoleUi.Match(answer, ["List friends", "Add a friend", "Remove a friend", "Back"]));

    [Fact]
    public void A_round_reads_as_a_sentence() =>
        Assert.Equal("you chose rock, they chose scissors: you win. Score 3-1.",
            Choices.Describe(new RoundResult((int)Outcome.Win, 0, 2, new Score(3), new Score(1))));
}
