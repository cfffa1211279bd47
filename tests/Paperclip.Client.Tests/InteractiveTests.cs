using Paperclip.Client.Tests.Infrastructure;

namespace Paperclip.Client.Tests;

/// <summary>Interactive mode driven through redirected input, as a script or a pipe would.</summary>
public sealed class InteractiveTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact(Timeout = 120_000)]
    public async Task Log_in_list_friends_and_quit()
    {
        var result = await Cli.RunAsync(["--server", fixture.Server.Url], "login\nMario\nItsAMe123\nfriends\nlist\nback\nquit\n");
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("Logged in as Mario.", result.Output, StringComparison.Ordinal);
        Assert.Contains("Peach", CommandTests.Lines(result.Output));
        Assert.EndsWith("Bye.", result.Output.Trim(), StringComparison.Ordinal);
        Assert.DoesNotContain("ItsAMe123", result.Output, StringComparison.Ordinal); // the password is not echoed
        result.AssertNoStackTrace();
    }

    [Fact(Timeout = 120_000)]
    public async Task Menus_take_numbers_and_words_and_show_games_and_lobbies()
    {
        var result = await Cli.RunAsync(["--server", fixture.Server.Url, "--user", "Peach", "--password", "MammaMia!"],
            "2\nlobbies\nlist lobbies\nfriends\n7\n5\n");
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("Logged in as Peach.", result.Output, StringComparison.Ordinal);
        Assert.Contains(CommandTests.Lines(result.Output), l => l.StartsWith("1   RPS", StringComparison.Ordinal));
        Assert.Contains("None of your friends is in a lobby with space.", result.Output, StringComparison.Ordinal);
        Assert.EndsWith("Bye.", result.Output.Trim(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_wrong_password_is_shown_and_the_login_menu_comes_back()
    {
        var result = await Cli.RunAsync(["--server", fixture.Server.Url], "login\nBowser\nwrong\nlogin\nBowser\nM4r10SucK5\nquit\n");
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("Error: Wrong username or password.", result.Output, StringComparison.Ordinal);
        Assert.Contains("Logged in as Bowser.", result.Output, StringComparison.Ordinal);
        result.AssertNoStackTrace();
    }

    [Fact(Timeout = 120_000)]
    public async Task Register_then_add_and_remove_a_friend()
    {
        var name = ServerFixture.NewName("Rosalina");
        var result = await Cli.RunAsync(["--server", fixture.Server.Url],
            $"register\n{name}\nStar-Bits-9\nfriends\nadd\nMario\nlist\nremove\nMario\nlist\nback\nquit\n");
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains($"Registered {name}", result.Output, StringComparison.Ordinal);
        Assert.Contains("Mario is now your friend.", result.Output, StringComparison.Ordinal);
        Assert.Contains("Mario is no longer your friend.", result.Output, StringComparison.Ordinal);
        Assert.Contains("No friends yet.", result.Output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task The_end_of_the_input_ends_the_session_cleanly()
    {
        var result = await Cli.RunAsync(["--server", fixture.Server.Url], "login\nMario\nItsAMe123\nfriends\n");
        Assert.True(result.ExitCode == 0, result.All);
        Assert.EndsWith("Bye.", result.Output.Trim(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task An_unreachable_server_is_a_message_in_the_menu()
    {
        var url = $"http://127.0.0.1:{ServerProcess.UnusedPort()}";
        var result = await Cli.RunAsync(["--server", url], "login\nMario\nItsAMe123\nquit\n");
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains($"Error: Cannot reach the Paperclip server at {url}", result.Output, StringComparison.Ordinal);
        result.AssertNoStackTrace();
    }
}
