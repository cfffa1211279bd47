using System.Buffers;
using System.Buffers.Binary;
using Paperclip.Protocol;

namespace Paperclip.Transport.Internal.Connection;

/// <summary>
/// Messages sent from application threads, on their way to the session's I/O loop: prepared
/// messages appended under a short lock into a pooled buffer, taken by the loop in one swap.
/// Sends from the loop's own thread (event handlers) skip it.
/// </summary>
internal sealed class SendQueue : IDisposable
{
    // flags u16, checksum u32, fragment count u8, sealed u8, length i32, type u8, lane u8,
    // enqueued at (ms) i64, then the data.
    private const int RecordHeaderSize = 22;
    private const int InitialSize = 1024;
    // A buffer grown past this by a burst of large messages goes back to the pool once drained:
    // thousands of sessions must not each keep the largest burst they ever sent.
    private const int KeptSize = 64 * 1024;
    private readonly Lock _lock = new();
    private byte[] _filling = ArrayPool<byte>.Shared.Rent(InitialSize);
    private byte[] _draining = ArrayPool<byte>.Shared.Rent(InitialSize);
    private int _length;
    private bool _disposed;

    /// <summary>Appends a message queued at <paramref name="nowMs"/>. True when the queue was empty (the loop must be told).</summary>
    public bool Enqueue(in OutgoingMessage message, long nowMs)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var needed = _length + RecordHeaderSize + message.Data.Length;
            if (needed > _filling.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _filling.Length * 2));
                _filling.AsSpan(0, _length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_filling);
                _filling = larger;
            }
            var record = _filling.AsSpan(_length);
            var header = message.Header;
            BinaryPrimitives.WriteUInt16LittleEndian(record, (ushort)header.Flags);
            BinaryPrimitives.WriteUInt32LittleEndian(record[2..], header.Checksum);
            record[6] = header.FragmentCount;
            record[7] = message.Sealed ? (byte)1 : (byte)0;
            BinaryPrimitives.WriteInt32LittleEndian(record[8..], message.Data.Length);
            record[12] = (byte)header.Type;
            record[13] = header.Lane;
            BinaryPrimitives.WriteInt64LittleEndian(record[14..], nowMs);
            message.Data.CopyTo(record[RecordHeaderSize..]);
            var wasEmpty = _length == 0;
            _length = needed;
            return wasEmpty;
        }
    }

    /// <summary>
    /// Hands every queued message to <paramref name="session"/>, in order; an unreliable one queued
    /// <paramref name="maxUnreliableDelayMs"/> or more before <paramref name="nowMs"/> is dropped
    /// instead (stale state is worse than none). Loop thread.
    /// </summary>
    public void DrainInto(SessionCore session, long nowMs, long maxUnreliableDelayMs)
    {
        int length;
        lock (_lock)
        {
            if (_length == 0)
                return;
            (_filling, _draining) = (_draining, _filling);
            length = _length;
            _length = 0;
        }
        for (var position = 0; position < length;)
        {
            var record = _draining.AsSpan(position);
            var header = PacketHeader.Create((PacketType)record[12], (PacketFlags)BinaryPrimitives.ReadUInt16LittleEndian(record), 0);
            header.Checksum = BinaryPrimitives.ReadUInt32LittleEndian(record[2..]);
            header.FragmentCount = record[6];
            header.Channel = (byte)(record[13] & ChannelLane.ChannelMask);
            header.Sequenced = (record[13] & ChannelLane.SequencedBit) != 0;
            var dataLength = BinaryPrimitives.ReadInt32LittleEndian(record[8..]);
            var enqueuedMs = BinaryPrimitives.ReadInt64LittleEndian(record[14..]);
            position += RecordHeaderSize + dataLength;
            if (session.IsClosed)
                continue;
            var message = new OutgoingMessage(header, record.Slice(RecordHeaderSize, dataLength), record[7] != 0);
            if ((header.Flags & PacketFlags.Reliable) == 0 && nowMs - enqueuedMs >= maxUnreliableDelayMs)
                session.DropUnsent(message);
            else
                session.Send(message);
        }
        if (_draining.Length > KeptSize)
        {
            ArrayPool<byte>.Shared.Return(_draining);
            _draining = ArrayPool<byte>.Shared.Rent(InitialSize);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
                return;
            _disposed = true;
            _length = 0;
            ArrayPool<byte>.Shared.Return(_filling);
            ArrayPool<byte>.Shared.Return(_draining);
            _filling = _draining = [];
        }
    }
}
