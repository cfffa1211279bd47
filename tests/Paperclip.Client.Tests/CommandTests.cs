using System.Text.RegularExpressions;
using Paperclip.Client.Tests.Infrastructure;

namespace Paperclip.Client.Tests;

/// <summary>The non-interactive commands, each run as a real process against a real server.</summary>
public sealed partial class CommandTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const string Password = "Secret-123";

    [Fact(Timeout = 180_000)]
    public async Task Register_then_login_prints_a_token_and_a_taken_name_is_refused()
    {
        var name = ServerFixture.NewName("Luigi");
        var registered = await fixture.RunAsync("register", "--user", name, "--password", Password);
        Assert.True(registered.ExitCode == 0, registered.All);
        Assert.Matches($@"^Registered {name} \(account \d+\)\.", registered.Output);

        var login = await fixture.RunAsync("login", "--user", name, "--password", Password);
        Assert.True(login.ExitCode == 0, login.All);
        Assert.Equal(3, login.Output.Trim().Split('.').Length); // a JWT

        var again = await fixture.RunAsync("register", "--user", name, "--password", Password);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains($"The username '{name}' is taken.", again.Error, StringComparison.Ordinal);
        again.AssertNoStackTrace();
    }

    [Fact(Timeout = 120_000)]
    public async Task Credentials_can_come_from_the_environment()
    {
        var result = await Cli.RunAsync(["login"], environment: new Dictionary<string, string?>
        {
            ["PAPERCLIP_SERVER"] = fixture.Server.Url,
            ["PAPERCLIP_USER"] = "Mario",
            ["PAPERCLIP_PASSWORD"] = "ItsAMe123",
        });
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Equal(3, result.Output.Trim().Split('.').Length);
    }

    [Fact(Timeout = 120_000)]
    public async Task The_password_can_come_from_the_input()
    {
        var result = await Cli.RunAsync(["--server", fixture.Server.Url, "--user", "Mario", "--password-stdin", "login"], "ItsAMe123\n");
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Equal(3, result.Output.Trim().Split('.').Length);
        Assert.Equal("", result.Error); // no warning: the password was not on the command line
    }

    [Fact(Timeout = 120_000)]
    public async Task A_wrong_password_is_one_clear_line_and_a_failure()
    {
        var result = await fixture.RunAsync("login", "--user", "Bowser", "--password", "not-my-password");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("Wrong username or password.", result.Error.Trim());
        Assert.Equal("", result.Output);
        result.AssertNoStackTrace();
    }

    [Fact(Timeout = 120_000)]
    public async Task An_unreachable_server_is_named_in_the_message()
    {
        var url = $"http://127.0.0.1:{ServerProcess.UnusedPort()}";
        var result = await Cli.RunAsync(["--server", url, "--user", "Mario", "--password", "ItsAMe123", "friends", "list"]);
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"Cannot reach the Paperclip server at {url}", result.Error.Trim(), StringComparison.Ordinal);
        result.AssertNoStackTrace();
    }

    [Fact(Timeout = 180_000)]
    public async Task Friends_are_listed_added_and_removed()
    {
        var me = ServerFixture.NewName("Daisy");
        var other = ServerFixture.NewName("Toad");
        await fixture.Server.RegisterAsync(me, Password);
        await fixture.Server.RegisterAsync(other, Password);
        string[] auth = ["--user", me, "--password", Password];

        var empty = await fixture.RunAsync(["friends", "list", .. auth]);
        Assert.True(empty.ExitCode == 0, empty.All);
        Assert.Equal("", empty.Output);

        var added = await fixture.RunAsync(["friends", "add", other, .. auth]);
        Assert.True(added.ExitCode == 0, added.All);
        Assert.Equal($"{other} is now your friend.", added.Output.Trim());

        var list = await fixture.RunAsync(["friends", "list", .. auth]);
        Assert.Equal([other], Lines(list.Output));
        var theirs = await fixture.RunAsync("friends", "list", "--user", other, "--password", Password);
        Assert.Equal([me], Lines(theirs.Output));

        var twice = await fixture.RunAsync(["friends", "add", other, .. auth]);
        Assert.Equal(1, twice.ExitCode);
        Assert.Contains("already friends", twice.Error, StringComparison.Ordinal);

        var nobody = await fixture.RunAsync(["friends", "add", "NoSuchPlayer", .. auth]);
        Assert.Equal(1, nobody.ExitCode);
        Assert.Contains("There is no user 'NoSuchPlayer'.", nobody.Error, StringComparison.Ordinal);

        var removed = await fixture.RunAsync(["friends", "remove", other, .. auth]);
        Assert.True(removed.ExitCode == 0, removed.All);
        Assert.Equal($"{other} is no longer your friend.", removed.Output.Trim());
        Assert.Empty(Lines((await fixture.RunAsync(["friends", "list", .. auth])).Output));
    }

    [Fact(Timeout = 120_000)]
    public async Task Demo_friends_and_games_are_listed()
    {
        var friends = await fixture.RunAsync("friends", "list", "--user", "Peach", "--password", "MammaMia!");
        Assert.True(friends.ExitCode == 0, friends.All);
        Assert.Equal(["Bowser", "Mario"], Lines(friends.Output));

        var games = await fixture.RunAsync("games", "--user", "Mario", "--password", "ItsAMe123");
        Assert.True(games.ExitCode == 0, games.All);
        Assert.Contains("1  RPS", Lines(games.Output));
    }

    [Fact(Timeout = 180_000)]
    public async Task Lobbies_are_created_listed_shown_and_their_members_listed()
    {
        var me = ServerFixture.NewName("Yoshi");
        await fixture.Server.RegisterAsync(me, Password);
        string[] auth = ["--user", me, "--password", Password];

        var created = await fixture.RunAsync(["lobbies", "create", "--game", "RPS", .. auth]);
        Assert.True(created.ExitCode == 0, created.All);
        var match = CreatedRegex().Match(created.Output);
        Assert.True(match.Success, created.All);
        var id = match.Groups[1].Value;

        var list = await fixture.RunAsync(["lobbies", "list", .. auth]);
        Assert.True(list.ExitCode == 0, list.All);
        Assert.Contains($"{id}  RPS  0/2 players", Lines(list.Output));

        var members = await fixture.RunAsync(["lobbies", "members", .. auth]);
        Assert.True(members.ExitCode == 0, members.All);
        Assert.Contains($"{id}: (empty)", Lines(members.Output));

        var shown = await fixture.RunAsync(["lobbies", "show", id, .. auth]);
        Assert.True(shown.ExitCode == 0, shown.All);
        Assert.Matches($@"^Lobby {id}: RPS at 127\.0\.0\.1:\d+, 0/2 players", shown.Output);

        var friends = await fixture.RunAsync(["lobbies", "friends", .. auth]);
        Assert.True(friends.ExitCode == 0, friends.All);
        Assert.Equal("", friends.Output);

        var missing = await fixture.RunAsync(["lobbies", "show", "987654", .. auth]);
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal("There is no lobby 987654.", missing.Error.Trim());

        var noGame = await fixture.RunAsync(["lobbies", "create", "--game", "Chess", .. auth]);
        Assert.Equal(1, noGame.ExitCode);
        Assert.Equal("There is no game 'Chess'.", noGame.Error.Trim());
    }

    [Fact(Timeout = 120_000)]
    public async Task Matchmaking_prints_the_lobby()
    {
        var me = ServerFixture.NewName("Wario");
        await fixture.Server.RegisterAsync(me, Password);
        var result = await fixture.RunAsync("lobbies", "matchmake", "--game", "RPS", "--user", me, "--password", Password);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Matches(@"^(Created|Found) lobby \d+ \(RPS\) at 127\.0\.0\.1:\d+; a place is kept for you\.", result.Output);
    }

    [Fact(Timeout = 120_000)]
    public async Task Lobby_commands_without_a_game_take_the_servers_only_game()
    {
        var me = ServerFixture.NewName("Waluigi");
        await fixture.Server.RegisterAsync(me, Password);
        var matchmade = await fixture.RunAsync("lobbies", "matchmake", "--user", me, "--password", Password);
        Assert.True(matchmade.ExitCode == 0, matchmade.All);
        Assert.Matches(@"^(Created|Found) lobby \d+ \(RPS\) at 127\.0\.0\.1:\d+; a place is kept for you\.", matchmade.Output);
        var created = await fixture.RunAsync("lobbies", "create", "--user", me, "--password", Password);
        Assert.True(created.ExitCode == 0, created.All);
        Assert.Matches(@"^Created lobby \d+ \(RPS\) at 127\.0\.0\.1:\d+\.", created.Output);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("frobnicate")]
    [InlineData("friends", "befriend")]
    [InlineData("lobbies", "show", "abc")]
    [InlineData("play", "--choices", "0,7")]
    [InlineData("--colour")]
    [InlineData("games", "--game", "RPS")]
    [InlineData("friends", "list", "--choices", "0")]
    [InlineData("--password-stdin", "games")]
    [InlineData("--timeout", "0", "games")]
    public async Task Usage_mistakes_exit_2_with_a_hint(params string[] args)
    {
        var result = await fixture.RunAsync(["--user", "Mario", "--password", "ItsAMe123", .. args]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("paperclip --help", result.Error, StringComparison.Ordinal);
        Assert.Single(Lines(result.Error));
        result.AssertNoStackTrace();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_command_without_credentials_says_which_are_missing()
    {
        var result = await fixture.RunAsync("friends", "list");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--user NAME", result.Error, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Help_lists_every_command()
    {
        var result = await Cli.RunAsync(["--help"]);
        Assert.Equal(0, result.ExitCode);
        foreach (var command in new[] { "register", "login", "friends list", "friends add", "friends remove", "games", "lobbies list",
                     "lobbies members", "lobbies friends", "lobbies show", "lobbies create", "lobbies join", "lobbies matchmake", "play" })
            Assert.Contains(command, result.Output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Each_command_lists_only_its_own_options()
    {
        var join = await Cli.RunAsync(["lobbies", "join", "--help"]);
        Assert.Equal(0, join.ExitCode);
        Assert.Contains("--choices", join.Output, StringComparison.Ordinal);
        Assert.Contains("--server", join.Output, StringComparison.Ordinal);

        var games = await Cli.RunAsync(["games", "--help"]);
        Assert.Equal(0, games.ExitCode);
        Assert.Contains("--password-stdin", games.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("--choices", games.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("--game", games.Output, StringComparison.Ordinal);
    }

    internal static string[] Lines(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [GeneratedRegex(@"^Created lobby (\d+) \(RPS\) at 127\.0\.0\.1:\d+\.")]
    private static partial Regex CreatedRegex();
}
