using Paperclip.Transport.Internal.Connection.Congestion;

namespace Paperclip.Transport.Tests.Connection;

public sealed class WindowCongestionTests
{
    private const int Datagram = 1200;

    [Fact]
    public void Window_starts_at_64_datagrams_in_slow_start()
    {
        var congestion = new WindowCongestion(Datagram);
        Assert.Equal(64 * Datagram, congestion.Window);
        Assert.True(congestion.InSlowStart);
    }

    [Fact]
    public void Acknowledged_message_grows_the_window_by_its_bytes_in_slow_start()
    {
        var congestion = new WindowCongestion(Datagram);
        congestion.OnAcknowledged(80, sentMs: 5);
        Assert.Equal((64 * Datagram) + 80, congestion.Window);
        congestion.OnAcknowledged(40 * Datagram, sentMs: 5); // a fragmented message weighs its fragments
        Assert.Equal((104 * Datagram) + 80, congestion.Window);
    }

    [Fact]
    public void In_congestion_avoidance_a_window_of_acknowledged_bytes_adds_about_one_datagram()
    {
        var congestion = new WindowCongestion(Datagram);
        congestion.OnLost(now: 10_000, sentMs: 9_990);
        Assert.Equal(32 * Datagram, congestion.Window);
        Assert.False(congestion.InSlowStart);

        var before = congestion.Window;
        // Small messages, as many as fill the window: their bytes, not their count, grow it.
        for (var acked = 0L; acked < before; acked += 80)
            congestion.OnAcknowledged(80, sentMs: 10_001);
        Assert.InRange(congestion.Window - before, 0.95 * Datagram, 1.0 * Datagram);
    }

    [Fact]
    public void Losses_of_one_flight_halve_the_window_once()
    {
        var congestion = new WindowCongestion(Datagram);
        congestion.OnLost(now: 10_000, sentMs: 9_990);
        Assert.Equal(32 * Datagram, congestion.Window);
        // More losses among messages sent before that cut: the same congestion event.
        congestion.OnLost(now: 10_001, sentMs: 9_995);
        congestion.OnLost(now: 10_050, sentMs: 10_000);
        Assert.Equal(32 * Datagram, congestion.Window);
        // A message sent after the cut, lost: a new event, one round trip on.
        congestion.OnLost(now: 10_060, sentMs: 10_001);
        Assert.Equal(16 * Datagram, congestion.Window);
    }

    [Fact]
    public void Acknowledgements_of_the_flight_that_cut_grow_nothing()
    {
        var congestion = new WindowCongestion(Datagram);
        congestion.OnLost(now: 10_000, sentMs: 9_990);
        congestion.OnAcknowledged(Datagram, sentMs: 9_999);
        congestion.OnAcknowledged(Datagram, sentMs: 10_000);
        Assert.Equal(32 * Datagram, congestion.Window);
        congestion.OnAcknowledged(32 * Datagram, sentMs: 10_001);
        Assert.Equal(33 * Datagram, congestion.Window);
    }

    [Fact]
    public void First_loss_at_time_zero_still_cuts()
    {
        // "Long ago" must not look recent to a clock that starts at 0 (a fake clock).
        var congestion = new WindowCongestion(Datagram);
        congestion.OnLost(now: 0, sentMs: 0);
        Assert.Equal(32 * Datagram, congestion.Window);
    }

    [Fact]
    public void Window_never_falls_below_16_datagrams()
    {
        var congestion = new WindowCongestion(Datagram);
        for (var i = 0; i < 10; i++)
            congestion.OnLost(now: 1000 * (i + 1), sentMs: (1000 * (i + 1)) - 1);
        Assert.Equal(16 * Datagram, congestion.Window);
        Assert.Equal(congestion.MinWindow, congestion.Window);
    }

    [Fact]
    public void Window_never_grows_past_16384_datagrams()
    {
        var congestion = new WindowCongestion(Datagram);
        for (var i = 0; i < 200; i++)
            congestion.OnAcknowledged(255 * Datagram, sentMs: 1);
        Assert.Equal(16_384L * Datagram, congestion.Window);
    }
}
