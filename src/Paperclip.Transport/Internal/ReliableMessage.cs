using System.Buffers;
using System.Buffers.Binary;

namespace Paperclip.Transport.Internal;

/// <summary>
/// A RELIABLE message awaiting its ACK: its encoded packets (every fragment), kept as
/// LEN-prefixed entries so a retransmission re-queues them as they were. Pooled per session.
/// </summary>
internal sealed class ReliableMessage
{
    private byte[] _packets = [];
    private int _length;

    public ushort Sequence { get; private set; }

    public Framing Framing { get; private set; }

    public long FirstSentMs { get; private set; }

    public long LastSentMs { get; set; }

    public int Retries { get; set; }

    public void Start(ushort sequence, Framing framing, long nowMs)
    {
        Sequence = sequence;
        Framing = framing;
        FirstSentMs = nowMs;
        LastSentMs = nowMs;
        Retries = 0;
        _length = 0;
    }

    public void Append(ReadOnlySpan<byte> packet)
    {
        var needed = _length + 2 + packet.Length;
        if (needed > _packets.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _packets.Length * 2));
            _packets.AsSpan(0, _length).CopyTo(larger);
            if (_packets.Length > 0)
                ArrayPool<byte>.Shared.Return(_packets);
            _packets = larger;
        }
        BinaryPrimitives.WriteUInt16BigEndian(_packets.AsSpan(_length), (ushort)packet.Length);
        packet.CopyTo(_packets.AsSpan(_length + 2));
        _length = needed;
    }

    public void QueueInto(OutgoingQueue queue)
    {
        var position = 0;
        while (position < _length)
        {
            var length = BinaryPrimitives.ReadUInt16BigEndian(_packets.AsSpan(position));
            queue.Add(_packets.AsSpan(position + 2, length), Framing);
            position += 2 + length;
        }
    }

    /// <summary>Returns a large buffer to the pool; small ones stay for reuse.</summary>
    public void Reset()
    {
        _length = 0;
        if (_packets.Length > 16 * 1024)
        {
            ArrayPool<byte>.Shared.Return(_packets);
            _packets = [];
        }
    }
}
