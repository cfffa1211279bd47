using Paperclip.Transport.Internal.Io;

namespace Paperclip.Transport.Tests.Io;

public sealed class TimerQueueTests
{
    private static readonly long[] Deadlines = [30, 10, 20, 10];

    [Fact]
    public void Item_runs_at_its_deadline_not_before()
    {
        var queue = new TimerQueue();
        var item = new Item { Deadline = 100 };
        Assert.True(queue.Schedule(item));
        Assert.Equal(100, queue.NextDue);

        Assert.Equal(0, queue.RunDue(99));
        Assert.Empty(item.Runs);
        Assert.Equal(1, queue.RunDue(100));
        Assert.Equal([100L], item.Runs);
        Assert.Equal(0, queue.Count); // nothing due any more: out of the heap
        Assert.Equal(long.MaxValue, queue.NextDue);
    }

    [Fact]
    public void Deadline_moved_later_costs_no_push_and_still_runs_at_the_new_time()
    {
        var queue = new TimerQueue();
        var item = new Item { Deadline = 100 };
        queue.Schedule(item);
        item.Deadline = 250;
        Assert.False(queue.Schedule(item));
        Assert.Equal(1, queue.Count);

        // The old entry pops at 100, finds nothing due and takes the item to 250.
        Assert.Equal(0, queue.RunDue(100));
        Assert.Empty(item.Runs);
        Assert.Equal(250, queue.NextDue);
        Assert.Equal(0, queue.RunDue(249));
        Assert.Equal(1, queue.RunDue(250));
        Assert.Equal([250L], item.Runs);
    }

    [Fact]
    public void Deadline_moved_earlier_runs_earlier_and_the_old_entry_is_skipped()
    {
        var queue = new TimerQueue();
        var item = new Item { Deadline = 100 };
        queue.Schedule(item);
        item.Deadline = 40;
        Assert.True(queue.Schedule(item)); // the earliest due time moved earlier
        Assert.Equal(40, queue.NextDue);

        Assert.Equal(1, queue.RunDue(40));
        Assert.Equal([40L], item.Runs);
        // The entry at 100 is stale: the item has nothing due, so it does not run again.
        Assert.Equal(0, queue.RunDue(1000));
        Assert.Equal([40L], item.Runs);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Stale_entry_of_an_item_scheduled_again_later_does_not_run_it_early()
    {
        var queue = new TimerQueue();
        var item = new Item { Deadline = 100 };
        queue.Schedule(item);
        item.Deadline = 40;
        queue.Schedule(item);
        Assert.Equal(1, queue.RunDue(40));
        // After running it wants 500; the stale entry at 100 must not run it at 100.
        item.Deadline = 500;
        queue.Schedule(item);
        Assert.Equal(0, queue.RunDue(100));
        Assert.Equal(0, queue.RunDue(499));
        Assert.Equal(1, queue.RunDue(500));
        Assert.Equal([40L, 500L], item.Runs);
    }

    [Fact]
    public void Item_with_no_deadline_is_not_pushed_and_one_that_loses_its_deadline_is_dropped()
    {
        var queue = new TimerQueue();
        var never = new Item { Deadline = long.MaxValue };
        Assert.False(queue.Schedule(never));
        Assert.Equal(0, queue.Count);

        var item = new Item { Deadline = 100 };
        queue.Schedule(item);
        item.Deadline = long.MaxValue;
        Assert.Equal(0, queue.RunDue(100));
        Assert.Equal(0, queue.Count);
        Assert.Equal(long.MaxValue, queue.NextDue);
        Assert.Empty(item.Runs);
    }

    [Fact]
    public void Item_still_due_after_its_timer_runs_on_the_next_turn_not_in_a_spin()
    {
        var queue = new TimerQueue();
        var item = new Item { Deadline = 100, KeepDue = true };
        queue.Schedule(item);

        Assert.Equal(1, queue.RunDue(100));
        Assert.Equal([100L], item.Runs);
        Assert.Equal(101, queue.NextDue);
        Assert.Equal(1, queue.RunDue(101));
        Assert.Equal([100L, 101L], item.Runs);
    }

    [Fact]
    public void Items_run_in_deadline_order_each_once()
    {
        var queue = new TimerQueue();
        var order = new List<int>();
        var items = Deadlines.Select((d, i) => new Item { Deadline = d, OnRun = () => order.Add(i) }).ToArray();
        foreach (var item in items)
            queue.Schedule(item);

        Assert.Equal(4, queue.RunDue(30));
        Assert.Equal(30L, items[0].Runs.Single());
        Assert.Equal([2, 0], order.Skip(2));
        Assert.Equal([1, 3], order.Take(2).Order());
    }

    [Fact]
    public void Schedule_reports_true_only_when_the_earliest_due_time_moved_earlier()
    {
        var queue = new TimerQueue();
        Assert.True(queue.Schedule(new Item { Deadline = 100 }));
        Assert.False(queue.Schedule(new Item { Deadline = 200 }));
        Assert.True(queue.Schedule(new Item { Deadline = 50 }));
    }

    private sealed class Item : ITimed
    {
        public long Deadline { get; set; }

        public long ScheduledAt { get; set; } = long.MaxValue;

        /// <summary>When true, running does not move the deadline (a buggy or busy item).</summary>
        public bool KeepDue { get; init; }

        public Action? OnRun { get; init; }

        public List<long> Runs { get; } = [];

        public void OnTimer(long now)
        {
            Runs.Add(now);
            OnRun?.Invoke();
            if (!KeepDue)
                Deadline = long.MaxValue;
        }
    }
}
