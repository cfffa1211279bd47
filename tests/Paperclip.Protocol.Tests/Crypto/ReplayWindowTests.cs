using CsCheck;
using Paperclip.Protocol.Crypto;

namespace Paperclip.Protocol.Tests.Crypto;

/// <summary>The replay window (protocol §6.4).</summary>
public sealed class ReplayWindowTests
{
    [Fact]
    public void Empty_window_takes_any_number()
    {
        var window = new ReplayWindow();
        Assert.True(window.IsEmpty);
        Assert.True(window.IsFresh(0));
        Assert.True(window.IsFresh(ulong.MaxValue));
        Assert.Equal(ProtocolConstants.ReplayWindowSize, window.Size);
    }

    [Fact]
    public void Recorded_number_is_a_duplicate()
    {
        var window = new ReplayWindow();
        window.Record(0);
        Assert.False(window.IsEmpty);
        Assert.False(window.IsFresh(0));
        Assert.True(window.IsFresh(1));
        window.Record(1);
        Assert.False(window.IsFresh(1));
        Assert.Equal(1UL, window.Highest);
    }

    [Fact]
    public void Window_moves_only_on_record()
    {
        var window = new ReplayWindow();
        window.Record(10);
        Assert.True(window.IsFresh(5000));
        // Checking 5000 did not move the window: 9 is still inside it.
        Assert.True(window.IsFresh(9));
        Assert.Equal(10UL, window.Highest);
    }

    [Fact]
    public void Numbers_at_or_below_highest_minus_window_are_too_old()
    {
        var window = new ReplayWindow();
        window.Record(2000);
        Assert.False(window.IsFresh(2000 - 1024));
        Assert.False(window.IsFresh(0));
        Assert.True(window.IsFresh(2000 - 1023));
        Assert.True(window.IsFresh(1999));
    }

    [Fact]
    public void Out_of_order_numbers_inside_the_window_are_taken_once()
    {
        var window = new ReplayWindow();
        window.Record(100);
        window.Record(50);
        window.Record(99);
        Assert.False(window.IsFresh(50));
        Assert.False(window.IsFresh(99));
        Assert.True(window.IsFresh(98));
        Assert.Equal(100UL, window.Highest);
    }

    [Fact]
    public void Far_jump_forgets_everything_below()
    {
        var window = new ReplayWindow();
        for (ulong pn = 0; pn < 64; pn++)
            window.Record(pn);
        window.Record(1_000_000);
        Assert.False(window.IsFresh(63));
        // Numbers inside the new window that were never recorded are fresh, even where old bits lay.
        for (var pn = 1_000_000UL - 1023; pn < 1_000_000; pn++)
            Assert.True(window.IsFresh(pn), $"pn {pn}");
        Assert.False(window.IsFresh(1_000_000));
    }

    [Fact]
    public void Advancing_clears_the_slots_it_reuses()
    {
        var window = new ReplayWindow();
        for (ulong pn = 0; pn < 1024; pn++)
            window.Record(pn);
        // 1024 + 500 reuses the slots of 0..500: 1024..1523 must read as fresh until recorded.
        window.Record(1524);
        for (ulong pn = 1024; pn < 1524; pn++)
            Assert.True(window.IsFresh(pn), $"pn {pn}");
        for (ulong pn = 501; pn < 1024; pn++)
            Assert.False(window.IsFresh(pn), $"pn {pn}");
    }

    [Fact]
    public void Numbers_near_the_top_do_not_wrap()
    {
        var window = new ReplayWindow();
        window.Record(ulong.MaxValue - 10);
        window.Record(ulong.MaxValue);
        Assert.False(window.IsFresh(ulong.MaxValue));
        Assert.False(window.IsFresh(ulong.MaxValue - 10));
        Assert.True(window.IsFresh(ulong.MaxValue - 5));
    }

    [Fact]
    public void Too_old_record_is_ignored()
    {
        var window = new ReplayWindow();
        window.Record(5000);
        window.Record(5000 - 1024);
        Assert.Equal(5000UL, window.Highest);
        // Had the old record landed in the ring it would have marked 5000 (same slot).
        Assert.False(window.IsFresh(5000));
        Assert.True(window.IsFresh(4999));
    }

    [Fact]
    public void Behaves_like_a_set_with_a_moving_floor()
    {
        Gen.ULong[0, 5000].Array[1, 400].Sample(numbers =>
        {
            var window = new ReplayWindow();
            var seen = new HashSet<ulong>();
            ulong? highest = null;
            foreach (var pn in numbers)
            {
                var expected = highest is null || pn > highest || (highest - pn < 1024 && !seen.Contains(pn));
                Assert.Equal(expected, window.IsFresh(pn));
                if (!expected)
                    continue;
                window.Record(pn);
                seen.Add(pn);
                highest = highest is null ? pn : Math.Max(highest.Value, pn);
            }
        }, iter: 2_000);
    }

    [Fact]
    public void Larger_windows_keep_more()
    {
        var window = new ReplayWindow(4096);
        window.Record(5000);
        Assert.True(window.IsFresh(5000 - 4095));
        Assert.False(window.IsFresh(5000 - 4096));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReplayWindow(512));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReplayWindow(1500));
    }

    [Fact]
    public void Check_and_record_allocate_nothing()
    {
        var window = new ReplayWindow();
        for (ulong pn = 0; pn < 100; pn++)
            window.Record(pn);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (ulong pn = 100; pn < 10_000; pn += 3)
        {
            if (window.IsFresh(pn))
                window.Record(pn);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
