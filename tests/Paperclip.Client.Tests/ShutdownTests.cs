using Paperclip.Client.Tests.Infrastructure;

namespace Paperclip.Client.Tests;

/// <summary>The server stops while a player is in a lobby.</summary>
public sealed class ShutdownTests
{
    [Fact(Timeout = 180_000)]
    public async Task A_player_waiting_in_a_lobby_is_told_the_server_shut_down()
    {
        await using var server = await ServerProcess.StartAsync();
        await using var player = Cli.Start(["--server", server.Url, "--user", "Mario", "--password", "ItsAMe123", "play", "--choices", "0,0", "--timeout", "120"]);
        await player.WaitForLineAsync(l => l.Contains("Waiting for an opponent", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        await server.StopAsync();
        var result = await player.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("The server shut down.", result.Error.Trim());
        result.AssertNoStackTrace();
    }

    [Fact(Timeout = 180_000)]
    public async Task An_interactive_player_mid_game_is_told_and_gets_the_menu_back()
    {
        await using var server = await ServerProcess.StartAsync();
        await using var player = Cli.Start(["--server", server.Url, "--user", "Peach", "--password", "MammaMia!", "--timeout", "120"]);
        await player.Input.WriteAsync("play\n");
        await player.Input.FlushAsync(TestContext.Current.CancellationToken);
        await player.WaitForLineAsync(l => l.Contains("Waiting for an opponent", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        await server.StopAsync();
        await player.WaitForLineAsync(l => l.Contains("The server shut down.", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        await player.Input.WriteAsync("quit\n");
        await player.Input.FlushAsync(TestContext.Current.CancellationToken);
        var result = await player.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Error: The server shut down.", result.Output, StringComparison.Ordinal);
        Assert.EndsWith("Bye.", result.Output.Trim(), StringComparison.Ordinal);
        result.AssertNoStackTrace();
    }
}
