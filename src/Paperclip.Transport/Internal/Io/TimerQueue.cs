namespace Paperclip.Transport.Internal.Io;

/// <summary>Something with a deadline on a <see cref="TimerQueue"/>: a session, a handshake in progress.</summary>
internal interface ITimed
{
    /// <summary>When <see cref="OnTimer"/> is next due, in the clock's milliseconds; <see cref="long.MaxValue"/> for never.</summary>
    long Deadline { get; }

    /// <summary>The earliest due time this item has in the queue (the queue's bookkeeping).</summary>
    long ScheduledAt { get; set; }

    void OnTimer(long now);
}

/// <summary>
/// Deadlines of many items in one binary heap, run on one thread. An item is pushed only when
/// its deadline moved earlier than what the heap holds; a later deadline is found when its old
/// entry pops, and pushed again then. So a session whose deadline moves on every ACK costs no
/// heap work, and an item with nothing due is not in the heap at all: idle costs nothing.
/// </summary>
internal sealed class TimerQueue
{
    private readonly PriorityQueue<ITimed, long> _heap = new();

    /// <summary>The earliest entry's time; <see cref="long.MaxValue"/> when empty.</summary>
    public long NextDue => _heap.TryPeek(out _, out var due) ? due : long.MaxValue;

    public int Count => _heap.Count;

    /// <summary>Makes sure the heap holds the item at or before its deadline. True when the earliest due time moved earlier.</summary>
    public bool Schedule(ITimed item)
    {
        var deadline = item.Deadline;
        if (deadline == long.MaxValue)
            return false;
        var due = deadline;
        if (due >= item.ScheduledAt)
            return false;
        var earliest = due < NextDue;
        item.ScheduledAt = due;
        _heap.Enqueue(item, due);
        return earliest;
    }

    /// <summary>
    /// Takes the item out (a closed session): otherwise its entries would keep it, and all it
    /// holds, alive until they came due. O(entries); closing is rare next to packets.
    /// </summary>
    public void Cancel(ITimed item)
    {
#if NET9_0_OR_GREATER
        while (_heap.Remove(item, out _, out _, ReferenceEqualityComparer.Instance))
        {
        }
#else
        // .NET 8's PriorityQueue has no Remove: the heap is rebuilt without the item's entries.
        var kept = _heap.UnorderedItems.Where(entry => !ReferenceEquals(entry.Element, item)).ToList();
        _heap.Clear();
        _heap.EnqueueRange(kept);
#endif
        item.ScheduledAt = long.MaxValue;
    }

    /// <summary>Runs every item due at <paramref name="now"/>; returns how many ran.</summary>
    public int RunDue(long now)
    {
        var ran = 0;
        while (_heap.TryPeek(out var item, out var due) && due <= now)
        {
            _heap.Dequeue();
            if (due != item.ScheduledAt)
                continue; // a stale entry: the item was pushed again earlier and served then
            item.ScheduledAt = long.MaxValue;
            if (item.Deadline <= now)
            {
                item.OnTimer(now);
                ran++;
                // An item that is still due after running goes on the next turn, not in a spin.
                if (item.Deadline <= now)
                {
                    item.ScheduledAt = now + 1;
                    _heap.Enqueue(item, item.ScheduledAt);
                    continue;
                }
            }
            Schedule(item);
        }
        return ran;
    }
}
