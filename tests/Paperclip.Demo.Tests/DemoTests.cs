namespace Paperclip.Demo.Tests;

public sealed class DemoTests
{
    [Fact]
    public async Task Demo_plays_three_rounds_between_Mario_and_Peach_and_succeeds()
    {
        using var output = new StringWriter();
        var exitCode = await DemoRunner.RunAsync(output, TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);

        Assert.Equal(0, exitCode);
        var lines = output.ToString().Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.StartsWith("Mario and Peach matchmade into lobby", StringComparison.Ordinal) && l.Contains("AES-256-GCM", StringComparison.Ordinal));
        Assert.Equal(
            [
                "Round 1: Mario rock vs Peach scissors -> Mario wins (Mario 1, Peach 0)",
                "Round 2: Mario paper vs Peach paper -> draw (Mario 1, Peach 0)",
                "Round 3: Mario scissors vs Peach rock -> Peach wins (Mario 1, Peach 1)",
                "Final score: Mario 1, Peach 1",
            ],
            lines.Where(l => l.StartsWith("Round", StringComparison.Ordinal) || l.StartsWith("Final", StringComparison.Ordinal)));
    }
}
