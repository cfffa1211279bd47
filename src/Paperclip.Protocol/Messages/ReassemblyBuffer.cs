using System.Buffers;

namespace Paperclip.Protocol;

/// <summary>What <see cref="ReassemblyBuffer.Add"/> did with a fragment.</summary>
public enum ReassemblyStatus
{
    /// <summary>Stored; the message still lacks fragments.</summary>
    Incomplete,
    /// <summary>The last fragment arrived; the whole message is returned.</summary>
    Complete,
    /// <summary>This index was already stored; ignored.</summary>
    Duplicate,
    /// <summary>The fragment disagreed with the set (TF, FRAG_COUNT or CRC): the set was dropped.</summary>
    Discarded,
    /// <summary>The message would exceed the maximum message size, or the budget is spent: the set was dropped.</summary>
    TooLarge,
}

/// <summary>
/// Bytes shared by many sessions' buffers — partial messages (<see cref="ReassemblyBuffer"/>), or
/// held out-of-order CHANNEL messages — so that many peers together cannot hold more than a
/// global cap. Thread-safe.
/// </summary>
/// <param name="maxBytes">The cap across all buffers that use this budget.</param>
public sealed class ReassemblyBudget(long maxBytes)
{
    private long _used;

    /// <summary>Bytes held now.</summary>
    public long Used => Interlocked.Read(ref _used);

    /// <summary>The cap.</summary>
    public long MaxBytes { get; } = maxBytes;

    // Compare-and-swap, so that Used never reads above the cap, not even between a reservation
    // that does not fit and its undoing.
    /// <summary>Takes <paramref name="bytes"/> from the budget; false, taking nothing, when they do not fit.</summary>
    public bool TryReserve(int bytes)
    {
        var used = Interlocked.Read(ref _used);
        while (used + bytes <= MaxBytes)
        {
            var seen = Interlocked.CompareExchange(ref _used, used + bytes, used);
            if (seen == used)
                return true;
            used = seen;
        }
        return false;
    }

    /// <summary>Gives back bytes taken with <see cref="TryReserve"/>.</summary>
    public void Release(int bytes) => Interlocked.Add(ref _used, -bytes);
}

/// <summary>
/// One session's partial fragmented messages (protocol §3.3 step 4 and §8): keyed by SEQ, bounded
/// in count and bytes (the oldest set goes first), expired after a timeout. Not thread-safe: a
/// session owns one and uses it from one thread at a time.
/// </summary>
public sealed class ReassemblyBuffer : IDisposable
{
    private readonly List<PartialMessage> _partials = [];
    private readonly int _maxPartials;
    private readonly int _maxBytes;
    private readonly int _maxMessageSize;
    private readonly ReassemblyBudget? _budget;

    /// <summary>Creates a buffer with the given limits (defaults: protocol §8).</summary>
    public ReassemblyBuffer(int maxPartialMessages = ProtocolConstants.MaxPartialMessages,
        int maxPartialBytes = ProtocolConstants.MaxPartialBytes,
        int maxMessageSize = ProtocolConstants.MaxMessageSize,
        ReassemblyBudget? budget = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPartialMessages);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPartialBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxMessageSize);
        _maxPartials = maxPartialMessages;
        _maxBytes = maxPartialBytes;
        _maxMessageSize = maxMessageSize;
        _budget = budget;
    }

    /// <summary>Partial messages held.</summary>
    public int PartialCount => _partials.Count;

    /// <summary>Bytes of fragment data held.</summary>
    public int PartialBytes { get; private set; }

    /// <summary>
    /// Stores one fragment. When it completes its message, returns <see cref="ReassemblyStatus.Complete"/>
    /// and the message's data, which the caller disposes.
    /// </summary>
    /// <param name="header">The fragment's header (FRAG set).</param>
    /// <param name="data">The fragment's DATA (plaintext).</param>
    /// <param name="nowMilliseconds">The caller's clock, for expiry.</param>
    /// <param name="message">The whole message when complete.</param>
    public ReassemblyStatus Add(in PacketHeader header, ReadOnlySpan<byte> data, long nowMilliseconds, out PooledBuffer message)
    {
        message = default;
        if (!header.Has(PacketFlags.Frag))
            throw new ArgumentException("Not a fragment.", nameof(header));

        // Fragments agree on TF but for FRAG, and for ENCRYPTED, which a fragment carried inside a BATCH lacks.
        var typeAndFlags = (byte)(header.TypeAndFlags & ~(byte)(PacketFlags.Frag | PacketFlags.Encrypted));
        var index = IndexOf(header.Sequence);
        PartialMessage partial;
        if (index < 0)
        {
            partial = new PartialMessage(header.Sequence, typeAndFlags, header.FragmentCount, header.Checksum, Stream(header), nowMilliseconds);
            _partials.Add(partial);
            index = _partials.Count - 1;
        }
        else
        {
            partial = _partials[index];
            if (partial.TypeAndFlags != typeAndFlags || partial.Count != header.FragmentCount || partial.Checksum != header.Checksum || partial.Stream != Stream(header))
            {
                RemoveAt(index);
                return ReassemblyStatus.Discarded;
            }
            if (partial.Has(header.FragmentId))
                return ReassemblyStatus.Duplicate;
        }

        if (partial.Bytes + data.Length > _maxMessageSize || !(_budget?.TryReserve(data.Length) ?? true))
        {
            RemoveAt(index);
            return ReassemblyStatus.TooLarge;
        }
        partial.Store(header.FragmentId, data, nowMilliseconds);
        PartialBytes += data.Length;

        if (partial.IsComplete)
        {
            message = partial.Assemble();
            RemoveAt(index);
            return ReassemblyStatus.Complete;
        }

        // Past either bound the oldest sets go, never the one just extended if it is the only one.
        while (_partials.Count > 1 && (_partials.Count > _maxPartials || PartialBytes > _maxBytes))
            RemoveAt(0);
        if (PartialBytes > _maxBytes)
        {
            RemoveAt(0);
            return ReassemblyStatus.TooLarge;
        }
        return ReassemblyStatus.Incomplete;
    }

    /// <summary>
    /// Drops the sets whose latest new fragment arrived at or before <paramref name="cutoffMilliseconds"/>;
    /// returns how many. Timing out on silence rather than age lets a large message that is
    /// resent whole under heavy loss complete across retransmissions, each adding what it got
    /// through; the count and byte caps still bound what a peer can hold.
    /// </summary>
    public int Expire(long cutoffMilliseconds)
    {
        var removed = 0;
        for (var i = _partials.Count - 1; i >= 0; i--)
        {
            if (_partials[i].LastProgressAt <= cutoffMilliseconds)
            {
                RemoveAt(i);
                removed++;
            }
        }
        return removed;
    }

    /// <summary>Drops every set and returns its memory.</summary>
    public void Dispose()
    {
        for (var i = _partials.Count - 1; i >= 0; i--)
            RemoveAt(i);
    }

    // A CHANNEL message's fragments also agree on LANE and CSEQ (§3.3 step 4); other types have neither.
    private static int Stream(in PacketHeader header) =>
        header.Type == PacketType.Channel ? (header.Lane << 16) | header.ChannelSequence : -1;

    private int IndexOf(ushort sequence)
    {
        for (var i = 0; i < _partials.Count; i++)
        {
            if (_partials[i].Sequence == sequence)
                return i;
        }
        return -1;
    }

    private void RemoveAt(int index)
    {
        var partial = _partials[index];
        _partials.RemoveAt(index);
        PartialBytes -= partial.Bytes;
        _budget?.Release(partial.Bytes);
        partial.Release();
    }

    /// <summary>The fragments of one SEQ so far, appended in arrival order into one pooled array.</summary>
    private sealed class PartialMessage(ushort sequence, byte typeAndFlags, byte count, uint checksum, int stream, long startedAt)
    {
        private readonly (int Offset, int Length)[] _slots = new (int, int)[count];
        private readonly ulong[] _present = new ulong[4];
        private byte[] _storage = ArrayPool<byte>.Shared.Rent(1024);
        private int _received;

        public ushort Sequence { get; } = sequence;
        public byte TypeAndFlags { get; } = typeAndFlags;
        public byte Count { get; } = count;
        public uint Checksum { get; } = checksum;
        public int Stream { get; } = stream;
        public long LastProgressAt { get; private set; } = startedAt;
        public int Bytes { get; private set; }
        public bool IsComplete => _received == Count;

        public bool Has(byte id) => (_present[id >> 6] & (1UL << (id & 63))) != 0;

        public void Store(byte id, ReadOnlySpan<byte> data, long nowMilliseconds)
        {
            LastProgressAt = nowMilliseconds;
            if (Bytes + data.Length > _storage.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_storage.Length * 2, Bytes + data.Length));
                _storage.AsSpan(0, Bytes).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_storage);
                _storage = larger;
            }
            data.CopyTo(_storage.AsSpan(Bytes));
            _slots[id] = (Bytes, data.Length);
            _present[id >> 6] |= 1UL << (id & 63);
            Bytes += data.Length;
            _received++;
        }

        public PooledBuffer Assemble()
        {
            var message = new PooledBuffer(Bytes);
            var offset = 0;
            foreach (var (start, length) in _slots)
            {
                _storage.AsSpan(start, length).CopyTo(message.Span[offset..]);
                offset += length;
            }
            return message;
        }

        public void Release()
        {
            ArrayPool<byte>.Shared.Return(_storage);
            _storage = [];
        }
    }
}
