using System.Collections.Concurrent;
using Paperclip.Protocol;

namespace Paperclip.Transport.Internal;

/// <summary>
/// Raises events at once (<see cref="EventDelivery.Immediate"/>) or queues them for
/// <see cref="Drain"/> on the game's thread (<see cref="EventDelivery.Polled"/>). Queued
/// message data is copied into pooled buffers and returned after the handler ran.
/// </summary>
internal sealed class EventQueue(EventDelivery delivery)
{
    private readonly ConcurrentQueue<Pending> _queue = new();

    public bool IsPolled => delivery == EventDelivery.Polled;

    /// <summary>A message: raised now, or copied and queued. <paramref name="raise"/> is a cached delegate, so nothing is allocated per message.</summary>
    public void Message(object state, ReadOnlySpan<byte> data, MessageInfo info, MessageRaiser raise)
    {
        if (!IsPolled)
        {
            raise(state, data, info);
            return;
        }
        var copy = new PooledBuffer(data.Length);
        data.CopyTo(copy.Span);
        _queue.Enqueue(new Pending(state, copy, info, raise, null));
    }

    /// <summary>Any other event: raised now, or queued.</summary>
    public void Other(Action raise)
    {
        if (IsPolled)
            _queue.Enqueue(new Pending(null, default, default, null, raise));
        else
            raise();
    }

    /// <summary>Raises up to <paramref name="max"/> queued events on this thread; returns how many.</summary>
    public int Drain(int max)
    {
        var raised = 0;
        while (raised < max && _queue.TryDequeue(out var pending))
        {
            raised++;
            var data = pending.Data;
            try
            {
                if (pending.RaiseMessage is not null)
                    pending.RaiseMessage(pending.State!, data.Span, pending.Info);
                else
                    pending.RaiseOther!();
            }
            finally
            {
                data.Dispose();
            }
        }
        return raised;
    }

    private readonly record struct Pending(object? State, PooledBuffer Data, MessageInfo Info,
        MessageRaiser? RaiseMessage, Action? RaiseOther);
}

/// <summary>Raises a received message (a named delegate: .NET 8 allows no span in Action's type arguments).</summary>
internal delegate void MessageRaiser(object state, ReadOnlySpan<byte> data, MessageInfo info);
