using Paperclip.Client.Commands;
using Paperclip.Client.Interactive;
using Paperclip.Client.Play;
using Paperclip.Games.RockPaperScissors;

namespace Paperclip.Client.Tests;

/// <summary>The command line, hands and menu answers, without processes.</summary>
public sealed class ParsingTests
{
    [Theory]
    [InlineData("--server,http://h:1,--user,Mario,friends,add,Peach", "friends,add,Peach,--server,http://h:1,--user,Mario")]
    [InlineData("--user=Mario,--password-stdin,--timeout,5,play,--choices,0", "play,--choices,0,--user=Mario,--password-stdin,--timeout,5")]
    [InlineData("--USER,Mario,games", "games,--USER,Mario")]
    [InlineData("--user,Mario,friends,add,--,--odd", "friends,add,--user,Mario,--,--odd")]
    public void Connection_options_before_the_command_move_after_it(string args, string expected) =>
        Assert.Equal(expected.Split(','), LeadingOptions.MoveAfterCommand(args.Split(',')));

    [Theory]
    [InlineData("--server,http://h:1,--timeout,5")] // no command: the interactive mode takes them
    [InlineData("friends,list,--user,Mario")] // already after the command
    [InlineData("--plain,--user,Mario,play")] // not a connection option: left where it is, for the parser to judge
    [InlineData("--user")] // no value: left for the parser to report
    public void Other_command_lines_are_left_as_they_are(string args) =>
        Assert.Equal(args.Split(','), LeadingOptions.MoveAfterCommand(args.Split(',')));

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
