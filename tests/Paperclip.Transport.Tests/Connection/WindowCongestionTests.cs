using Paperclip.Transport.Internal.Connection.Congestion;

namespace Paperclip.Transport.Tests.Connection;

public sealed class WindowCongestionTests
{
    [Fact]
    public void Window_starts_at_64_packets_in_slow_start()
    {
        var congestion = new WindowCongestion();
        Assert.Equal(64, congestion.Window);
        Assert.True(congestion.InSlowStart);
    }

    [Fact]
    public void Acknowledged_message_grows_the_window_by_its_packets_in_slow_start()
    {
        var congestion = new WindowCongestion();
        congestion.OnAcknowledged(1);
        Assert.Equal(65, congestion.Window);
        congestion.OnAcknowledged(40); // a fragmented message weighs its fragments
        Assert.Equal(105, congestion.Window);
    }

    [Fact]
    public void Acknowledged_message_grows_the_window_by_packets_over_window_in_congestion_avoidance()
    {
        var congestion = new WindowCongestion();
        congestion.OnRetransmissionTimeout(now: 10_000, retransmissionTimeoutMs: 200);
        Assert.Equal(32, congestion.Window);
        Assert.False(congestion.InSlowStart);

        congestion.OnAcknowledged(8);
        Assert.Equal(32 + (8 / 32.0), congestion.Window, 9);
        // A whole window of single-packet ACKs adds about one packet.
        var before = congestion.Window;
        for (var i = 0; i < 32; i++)
            congestion.OnAcknowledged(1);
        Assert.InRange(congestion.Window - before, 0.95, 1.0);
    }

    [Fact]
    public void Retransmission_timeout_halves_the_window_at_most_once_per_RTO()
    {
        var congestion = new WindowCongestion();
        congestion.OnRetransmissionTimeout(now: 10_000, retransmissionTimeoutMs: 200);
        Assert.Equal(32, congestion.Window);
        congestion.OnRetransmissionTimeout(now: 10_100, retransmissionTimeoutMs: 200);
        congestion.OnRetransmissionTimeout(now: 10_199, retransmissionTimeoutMs: 200);
        Assert.Equal(32, congestion.Window);
        congestion.OnRetransmissionTimeout(now: 10_200, retransmissionTimeoutMs: 200);
        Assert.Equal(16, congestion.Window);
    }

    [Fact]
    public void First_timeout_at_time_zero_still_cuts()
    {
        // "Long ago" must not look recent to a clock that starts at 0 (a fake clock).
        var congestion = new WindowCongestion();
        congestion.OnRetransmissionTimeout(now: 0, retransmissionTimeoutMs: 2000);
        Assert.Equal(32, congestion.Window);
    }

    [Fact]
    public void Window_never_falls_below_16_packets()
    {
        var congestion = new WindowCongestion();
        for (var i = 0; i < 10; i++)
            congestion.OnRetransmissionTimeout(now: 1000 * (i + 1), retransmissionTimeoutMs: 200);
        Assert.Equal(WindowCongestion.MinWindow, congestion.Window);
    }

    [Fact]
    public void Window_never_grows_past_16384_packets()
    {
        var congestion = new WindowCongestion();
        for (var i = 0; i < 200; i++)
            congestion.OnAcknowledged(255);
        Assert.Equal(WindowCongestion.MaxWindow, congestion.Window);
    }
}
