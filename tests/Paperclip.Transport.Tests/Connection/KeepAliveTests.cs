using Paperclip.Transport.Internal.Connection;

namespace Paperclip.Transport.Tests.Connection;

public sealed class KeepAliveTests
{
    // Interval 30 s, retry 1 s, timeout 120 s, as the defaults; the clock starts at 1000.
    private static KeepAlive Create() => new(intervalMs: 30_000, retryMs: 1_000, timeoutMs: 120_000, nowMs: 1_000);

    [Fact]
    public void Pings_after_the_interval_of_silence_not_before()
    {
        var keepAlive = Create();
        Assert.Equal(31_000, keepAlive.Deadline(canPing: true));
        Assert.Equal(KeepAliveAction.Nothing, keepAlive.Check(30_999, canPing: true));
        Assert.Equal(KeepAliveAction.Ping, keepAlive.Check(31_000, canPing: true));
    }

    [Fact]
    public void Ping_repeats_every_retry_interval_while_the_peer_stays_silent()
    {
        var keepAlive = Create();
        Assert.Equal(KeepAliveAction.Ping, keepAlive.Check(31_000, canPing: true));
        Assert.Equal(32_000, keepAlive.Deadline(canPing: true));
        Assert.Equal(KeepAliveAction.Nothing, keepAlive.Check(31_999, canPing: true));
        Assert.Equal(KeepAliveAction.Ping, keepAlive.Check(32_000, canPing: true));
        Assert.Equal(33_000, keepAlive.Deadline(canPing: true));
    }

    [Fact]
    public void Silence_past_the_heartbeat_timeout_times_out()
    {
        var keepAlive = Create();
        var pings = 0;
        for (var now = 1_000L; now < 121_000; now = keepAlive.Deadline(canPing: true))
        {
            if (keepAlive.Check(now, canPing: true) == KeepAliveAction.Ping)
                pings++;
        }
        Assert.Equal(90, pings); // 31 s … 120 s, one a second
        Assert.Equal(121_000, keepAlive.Deadline(canPing: true));
        Assert.Equal(KeepAliveAction.TimedOut, keepAlive.Check(121_000, canPing: true));
    }

    [Fact]
    public void Deadline_moves_with_every_datagram_received()
    {
        var keepAlive = Create();
        keepAlive.OnReceived(20_000);
        Assert.Equal(50_000, keepAlive.Deadline(canPing: true));
        Assert.Equal(KeepAliveAction.Nothing, keepAlive.Check(31_000, canPing: true));
        Assert.Equal(140_000, keepAlive.Deadline(canPing: false));
        Assert.NotEqual(KeepAliveAction.TimedOut, keepAlive.Check(121_000, canPing: true)); // 101 s of silence, not 120
    }

    [Fact]
    public void Answer_to_a_ping_puts_the_next_ping_a_whole_interval_away()
    {
        var keepAlive = Create();
        Assert.Equal(KeepAliveAction.Ping, keepAlive.Check(31_000, canPing: true));
        keepAlive.OnReceived(31_050); // the PONG
        Assert.Equal(61_050, keepAlive.Deadline(canPing: true));
        Assert.Equal(KeepAliveAction.Nothing, keepAlive.Check(32_000, canPing: true));
    }

    [Fact]
    public void Without_keys_it_never_pings_but_still_times_out()
    {
        var keepAlive = Create();
        Assert.Equal(121_000, keepAlive.Deadline(canPing: false));
        Assert.Equal(KeepAliveAction.Nothing, keepAlive.Check(31_000, canPing: false));
        Assert.Equal(KeepAliveAction.Nothing, keepAlive.Check(100_000, canPing: false));
        Assert.Equal(KeepAliveAction.TimedOut, keepAlive.Check(121_000, canPing: false));
    }
}
