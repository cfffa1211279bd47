using Paperclip.Soak;

namespace Paperclip.Transport.Tests.Hardening;

/// <summary>
/// Issue 7, scenario 7, the CI variant of <c>tools/Paperclip.Soak</c>: 30 seconds of clients
/// connecting, leaving and exchanging reliable and unreliable messages (500 clients with
/// PAPERCLIP_LONG_TESTS=1 for 10 minutes; by default 150 for 30 s, on a shared 2-core machine):
/// every reliable message exactly once and intact, no error, no session left, the heap flat.
/// </summary>
[Collection(Alone.Name)]
public sealed class SoakTests
{
    [Fact]
    public async Task Clients_come_and_go_and_talk_for_thirty_seconds_without_error_leak_or_growth()
    {
        var result = await new SoakRunner(new SoakOptions
        {
            Clients = LongTests.Pick(150, 500),
            Duration = LongTests.Enabled ? TimeSpan.FromMinutes(10) : TimeSpan.FromSeconds(30),
            Progress = line => TestContext.Current.TestOutputHelper?.WriteLine(line),
        }).RunAsync(TestContext.Current.CancellationToken);
        LongTests.Report($"soak: {result}");
        Assert.Empty(result.Problems);
        Assert.Equal(0, result.Duplicates);
        Assert.Equal(0, result.Corrupted);
        Assert.Equal(0, result.SessionsAfterTeardown);
        Assert.Equal(0, result.PendingAfterTeardown);
        Assert.True(result.ReliableDelivered > 0);
        // Flat: the heap at the end of the traffic within 10 MB of the heap once everyone had connected.
        Assert.True(result.HeapEndBytes - result.HeapStartBytes < 10_000_000, $"heap {result.HeapStartBytes} -> {result.HeapEndBytes}");
    }
}
