using System.Text.RegularExpressions;
using Paperclip.Client.Api;
using Paperclip.Client.Lobbies;
using Paperclip.Client.Play;
using Paperclip.Client.Tests.Infrastructure;
using Paperclip.Games.RockPaperScissors;

namespace Paperclip.Client.Tests;

/// <summary>Playing rock-paper-scissors: CLI processes against each other, and the <see cref="RpsMatch"/> API.</summary>
public sealed partial class PlayTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const string Password = "Secret-123";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact(Timeout = 180_000)]
    public async Task Two_players_matchmake_and_play_their_choices()
    {
        // A server of its own: lobbies other tests left with a reservation would be as full as
        // Mario's, and matchmaking could rightly seat Peach in one of them.
        await using var server = await ServerProcess.StartAsync();
        var (mario, peach) = (ServerFixture.NewName("Mario"), ServerFixture.NewName("Peach"));
        await server.RegisterAsync(mario, Password);
        await server.RegisterAsync(peach, Password);

        await using var first = Cli.Start(["--server", server.Url, "--user", mario, "--password", Password, "play", "--game", "RPS", "--choices", "0,1,2", "--timeout", "60"]);
        await first.WaitForLineAsync(l => l.StartsWith("Joined lobby", StringComparison.Ordinal), Wait);
        await using var second = Cli.Start(["--server", server.Url, "--user", peach, "--password", Password, "play", "--game", "RPS", "--choices", "scissors,paper,paper", "--timeout", "60"]);
        var one = await first.WaitForExitAsync(Wait);
        var two = await second.WaitForExitAsync(Wait);

        Assert.True(one.ExitCode == 0, one.All);
        Assert.True(two.ExitCode == 0, two.All);
        Assert.Equal(LobbyOf(one.Output), LobbyOf(two.Output));
        Assert.Contains("Waiting for an opponent...", one.Output, StringComparison.Ordinal);
        Assert.Equal(
        [
            "Round 1: you chose rock, they chose scissors: you win. Score 1-0.",
            "Round 2: you chose paper, they chose paper: draw. Score 1-0.",
            "Round 3: you chose scissors, they chose paper: you win. Score 2-0.",
            "Final score: you 2, opponent 0. You won.",
        ], CommandTests.Lines(one.Output).Where(l => l.StartsWith("Round", StringComparison.Ordinal) || l.StartsWith("Final", StringComparison.Ordinal)));
        Assert.Equal(
        [
            "Round 1: you chose scissors, they chose rock: you lose. Score 0-1.",
            "Round 2: you chose paper, they chose paper: draw. Score 0-1.",
            "Round 3: you chose paper, they chose scissors: you lose. Score 0-2.",
            "Final score: you 0, opponent 2. You lost.",
        ], CommandTests.Lines(two.Output).Where(l => l.StartsWith("Round", StringComparison.Ordinal) || l.StartsWith("Final", StringComparison.Ordinal)));
        one.AssertNoStackTrace();
        two.AssertNoStackTrace();
    }

    [Fact(Timeout = 180_000)]
    public async Task A_third_player_is_told_the_lobby_is_full()
    {
        var names = new[] { ServerFixture.NewName("Mario"), ServerFixture.NewName("Peach"), ServerFixture.NewName("Bowser") };
        foreach (var name in names)
            await fixture.Server.RegisterAsync(name, Password);

        using var api1 = await LoginAsync(names[0]);
        using var api2 = await LoginAsync(names[1]);
        var lobby = await api1.CreateLobbyAsync("RPS", TestContext.Current.CancellationToken);
        await using var match1 = await RpsMatch.JoinAsync(api1, lobby, Password, cancellationToken: TestContext.Current.CancellationToken);
        await using var match2 = await RpsMatch.JoinAsync(api2, await api2.GetLobbyAsync(lobby.LobbyId, TestContext.Current.CancellationToken), Password,
            cancellationToken: TestContext.Current.CancellationToken);

        var third = await fixture.RunAsync("--user", names[2], "--password", Password, "lobbies", "join", lobby.LobbyId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--choices", "0", "--timeout", "20");
        Assert.Equal(1, third.ExitCode);
        Assert.Equal("That lobby is full.", third.Error.Trim());
        third.AssertNoStackTrace();

        // The two players inside play on.
        var round1 = match1.PlayAsync(Choice.Paper, TestContext.Current.CancellationToken);
        var round2 = match2.PlayAsync(Choice.Rock, TestContext.Current.CancellationToken);
        Assert.Equal((int)Outcome.Win, (await round1.WaitAsync(Wait, TestContext.Current.CancellationToken)).Outcome);
        Assert.Equal((int)Outcome.Lose, (await round2.WaitAsync(Wait, TestContext.Current.CancellationToken)).Outcome);
        Assert.Equal((1, 0), (match1.Score, match1.OtherScore));
    }

    [Fact(Timeout = 180_000)]
    public async Task An_interactive_player_with_redirected_input_plays_a_scripted_one()
    {
        var (mario, peach) = (ServerFixture.NewName("Mario"), ServerFixture.NewName("Peach"));
        await fixture.Server.RegisterAsync(mario, Password);
        await fixture.Server.RegisterAsync(peach, Password);
        using var api = await LoginAsync(mario);
        var lobby = await api.CreateLobbyAsync("RPS", TestContext.Current.CancellationToken);
        var id = lobby.LobbyId.ToString(System.Globalization.CultureInfo.InvariantCulture);

        // Mario joins through the menus and plays rock, a typo, paper, then leaves with q.
        await using var interactive = Cli.Start(["--server", fixture.Server.Url, "--timeout", "60"]);
        await interactive.Input.WriteAsync($"login\n{mario}\n{Password}\nlobbies\njoin\n{id}\n");
        await interactive.Input.FlushAsync(TestContext.Current.CancellationToken);
        await interactive.WaitForLineAsync(l => l.Contains("Waiting for an opponent", StringComparison.Ordinal), Wait);
        await interactive.Input.WriteAsync("r\nx\np\nq\nback\nquit\n");
        await interactive.Input.FlushAsync(TestContext.Current.CancellationToken);

        var scripted = await fixture.RunAsync("--user", peach, "--password", Password, "lobbies", "join", id, "--choices", "s,s", "--timeout", "60");
        var transcript = await interactive.WaitForExitAsync(Wait);

        Assert.True(scripted.ExitCode == 0, scripted.All);
        Assert.True(transcript.ExitCode == 0, transcript.All);
        var output = transcript.Output;
        Assert.Contains($"{peach} sat down: your opponent is here.", output, StringComparison.Ordinal); // told by the game server, not polled
        Assert.Contains("Round 1: you chose rock, they chose scissors: you win. Score 1-0.", output, StringComparison.Ordinal);
        Assert.Contains("Type r (rock), p (paper), s (scissors), or q to leave.", output, StringComparison.Ordinal);
        Assert.Contains("Round 2: you chose paper, they chose scissors: you lose. Score 1-1.", output, StringComparison.Ordinal);
        Assert.Contains($"Left lobby {id}. Final score: you 1, opponent 1. A tie.", output, StringComparison.Ordinal);
        Assert.EndsWith("Bye.", output.Trim(), StringComparison.Ordinal);
        Assert.Contains("Final score: you 1, opponent 1. A tie.", scripted.Output, StringComparison.Ordinal);
        transcript.AssertNoStackTrace();
    }

    [Fact(Timeout = 120_000)]
    public async Task Nobody_coming_is_a_timeout_message()
    {
        var me = ServerFixture.NewName("Lonely");
        await fixture.Server.RegisterAsync(me, Password);
        using var api = await LoginAsync(me);
        var lobby = await api.CreateLobbyAsync("RPS", TestContext.Current.CancellationToken);
        var result = await fixture.RunAsync("--user", me, "--password", Password, "lobbies", "join", lobby.LobbyId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--choices", "0", "--timeout", "2");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("No opponent joined within 2 s.", result.Error.Trim());
    }

    [Fact(Timeout = 120_000)]
    public async Task The_wrong_password_for_the_key_is_refused_before_connecting()
    {
        var me = ServerFixture.NewName("Shy");
        await fixture.Server.RegisterAsync(me, Password);
        using var api = await LoginAsync(me);
        var lobby = await api.CreateLobbyAsync("RPS", TestContext.Current.CancellationToken);
        await Assert.ThrowsAsync<AccountKeyException>(() => RpsMatch.JoinAsync(api, lobby, "not the password", cancellationToken: TestContext.Current.CancellationToken));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_bad_move_is_reported_and_the_session_goes_on()
    {
        var (a, b) = (ServerFixture.NewName("Koopa"), ServerFixture.NewName("Goomba"));
        await fixture.Server.RegisterAsync(a, Password);
        await fixture.Server.RegisterAsync(b, Password);
        using var apiA = await LoginAsync(a);
        using var apiB = await LoginAsync(b);
        var lobby = await apiA.CreateLobbyAsync("RPS", TestContext.Current.CancellationToken);
        await using var matchA = await RpsMatch.JoinAsync(apiA, lobby, Password, cancellationToken: TestContext.Current.CancellationToken);
        await using var matchB = await RpsMatch.JoinAsync(apiB, lobby, Password, cancellationToken: TestContext.Current.CancellationToken);

        var bad = await Assert.ThrowsAsync<RpsGameException>(() => matchA.PlayAsync((Choice)7, TestContext.Current.CancellationToken).WaitAsync(Wait, TestContext.Current.CancellationToken));
        Assert.Contains("0 (rock), 1 (paper) or 2 (scissors)", bad.Message, StringComparison.Ordinal);

        var round = matchA.PlayAsync(Choice.Scissors, TestContext.Current.CancellationToken);
        var other = await matchB.PlayAsync(Choice.Scissors, TestContext.Current.CancellationToken).WaitAsync(Wait, TestContext.Current.CancellationToken);
        Assert.Equal((int)Outcome.Draw, (await round.WaitAsync(Wait, TestContext.Current.CancellationToken)).Outcome);
        Assert.Equal((int)Outcome.Draw, other.Outcome);
        Assert.Equal(1, matchA.Rounds);
    }

    [Fact(Timeout = 180_000)]
    public async Task When_the_opponent_leaves_the_hand_is_played_against_the_next_one()
    {
        var names = new[] { ServerFixture.NewName("Luigi"), ServerFixture.NewName("Daisy"), ServerFixture.NewName("Toad") };
        foreach (var name in names)
            await fixture.Server.RegisterAsync(name, Password);
        var token = TestContext.Current.CancellationToken;
        using var api1 = await LoginAsync(names[0]);
        using var api2 = await LoginAsync(names[1]);
        using var api3 = await LoginAsync(names[2]);
        var lobby = await api1.CreateLobbyAsync("RPS", token);
        await using var stayer = await RpsMatch.JoinAsync(api1, lobby, Password, cancellationToken: token);
        var leaver = await RpsMatch.JoinAsync(api2, lobby, Password, cancellationToken: token);
        var left = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var waitingForMove = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        stayer.StatusChanged += (_, status) =>
        {
            if (status == MatchStatus.OpponentLeft)
                left.TrySetResult(stayer.Opponent);
            if (status == MatchStatus.WaitingForOtherChoice)
                waitingForMove.TrySetResult();
        };

        var round = stayer.PlayAsync(Choice.Rock, token);
        await waitingForMove.Task.WaitAsync(Wait, token);
        await leaver.DisposeAsync();
        Assert.Equal(names[1], await left.Task.WaitAsync(Wait, token)); // the game server named who left
        Assert.Null(stayer.Opponent);

        await using var newcomer = await RpsMatch.JoinAsync(api3, lobby, Password, cancellationToken: token);
        var theirs = await newcomer.PlayAsync(Choice.Paper, token).WaitAsync(Wait, token);
        var mine = await round.WaitAsync(Wait, token);
        Assert.Equal(names[2], stayer.Opponent);
        Assert.Equal(names[0], newcomer.Opponent);
        Assert.Equal((int)Outcome.Lose, mine.Outcome);
        Assert.Equal((int)Outcome.Win, theirs.Outcome);
        Assert.Equal((0, 1), (stayer.Score, stayer.OtherScore));
    }

    private async Task<PaperclipApi> LoginAsync(string user)
    {
        var api = new PaperclipApi(fixture.Server.Address);
        await api.LoginAsync(user, Password, TestContext.Current.CancellationToken);
        return api;
    }

    private static string LobbyOf(string output) => JoinedRegex().Match(output).Groups[1].Value;

    [GeneratedRegex(@"Joined lobby (\d+) ")]
    private static partial Regex JoinedRegex();
}
