using System.Diagnostics.CodeAnalysis;
using Paperclip.Protocol;

namespace Paperclip.Transport.Internal.Connection;

/// <summary>
/// The RELIABLE messages in flight by sequence id (in the manner of reliable.io's sequence
/// buffer): a ring indexed by the id's low bits that spans the oldest id in flight to the newest.
/// A lookup is a range check and an array read where a dictionary hashed, probed and, with
/// thousands in flight, missed the cache; the oldest id in flight is known without a queue of its
/// own. The ring grows by doubling to the span (at most 32,768 ids: no SEQ is given out further
/// past the oldest unacknowledged, protocol §3.1) and keeps its size, as a dictionary would.
/// </summary>
internal sealed class InFlightMessages
{
    private const int InitialCapacity = 64;
    private SentMessage?[] _slots = new SentMessage?[InitialCapacity];
    private ushort _oldest;
    private ushort _newest;

    public int Count { get; private set; }

    /// <summary>The oldest sequence id in flight; meaningless when <see cref="Count"/> is 0.</summary>
    public ushort Oldest => _oldest;

    public bool TryGet(ushort sequence, [NotNullWhen(true)] out SentMessage? message)
    {
        if (Count == 0 || (ushort)(sequence - _oldest) > (ushort)(_newest - _oldest))
        {
            message = null;
            return false;
        }
        message = _slots[sequence & (_slots.Length - 1)];
        return message is not null;
    }

    public bool Contains(ushort sequence) => TryGet(sequence, out _);

    /// <summary>Puts <paramref name="message"/> in flight under <paramref name="sequence"/>, replacing any message there.</summary>
    public void Set(ushort sequence, SentMessage message)
    {
        if (Count == 0)
        {
            _oldest = _newest = sequence;
        }
        else if (IsAfter(sequence, _newest))
        {
            Reserve((ushort)(sequence - _oldest) + 1);
            _newest = sequence;
        }
        else if (IsAfter(_oldest, sequence))
        {
            Reserve((ushort)(_newest - sequence) + 1);
            _oldest = sequence;
        }
        ref var slot = ref _slots[sequence & (_slots.Length - 1)];
        if (slot is null)
            Count++;
        slot = message;
    }

    public bool Remove(ushort sequence)
    {
        if (!TryGet(sequence, out _))
            return false;
        var mask = _slots.Length - 1;
        _slots[sequence & mask] = null;
        if (--Count == 0)
            return true;
        // The ends move to the next message still in flight: each id is passed over once.
        while (_slots[_oldest & mask] is null)
            _oldest++;
        while (_slots[_newest & mask] is null)
            _newest--;
        return true;
    }

    /// <summary>Empties the set and gives its memory back (the session closed).</summary>
    public void Clear()
    {
        if (_slots.Length > InitialCapacity)
            _slots = new SentMessage?[InitialCapacity];
        else
            Array.Clear(_slots);
        Count = 0;
    }

    /// <summary>The messages in flight, oldest id first. The set must not change meanwhile.</summary>
    public Enumerator GetEnumerator() => new(this);

    private static bool IsAfter(ushort a, ushort b) => (ushort)(a - b) is > 0 and < ProtocolConstants.SequenceWindow;

    private void Reserve(int span)
    {
        if (span <= _slots.Length)
            return;
        var larger = new SentMessage?[(int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)span)];
        for (var sequence = _oldest; ; sequence++)
        {
            larger[sequence & (larger.Length - 1)] = _slots[sequence & (_slots.Length - 1)];
            if (sequence == _newest)
                break;
        }
        _slots = larger;
    }

    public struct Enumerator(InFlightMessages set)
    {
        private int _offset = -1;

        public SentMessage Current { get; private set; } = null!;

        public bool MoveNext()
        {
            if (set.Count == 0)
                return false;
            var span = (ushort)(set._newest - set._oldest);
            while (_offset < span)
            {
                _offset++;
                if (set._slots[(ushort)(set._oldest + _offset) & (set._slots.Length - 1)] is { } message)
                {
                    Current = message;
                    return true;
                }
            }
            return false;
        }
    }
}
