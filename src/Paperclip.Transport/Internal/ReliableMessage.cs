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
    private bool _launched;

    public ushort Sequence { get; private set; }

    public Framing Framing { get; private set; }

    /// <summary>When the first transmission left (set by the flush).</summary>
    public long FirstSentMs { get; private set; }

    /// <summary>When the latest transmission left.</summary>
    public long LastSentMs { get; private set; }

    /// <summary>False until the first transmission left: an ACK cannot be for it yet, nor a timeout run.</summary>
    public bool IsOut { get; private set; }

    public int Retries { get; set; }

    /// <summary>How many packets (fragments) the message travels as: its weight in the congestion window.</summary>
    public int PacketCount { get; private set; }

    /// <summary>True when the message travels as FRAG fragments, which the peer must hold while it reassembles.</summary>
    public bool IsFragmented { get; private set; }

    /// <summary>Message bytes (before framing): what the peer's reassembly holds for it.</summary>
    public int MessageBytes { get; private set; }

    public void Start(Framing framing, bool fragmented, int messageBytes)
    {
        Framing = framing;
        IsFragmented = fragmented;
        MessageBytes = messageBytes;
        IsOut = false;
        _launched = false;
        Retries = 0;
        PacketCount = 0;
        _length = 0;
    }

    /// <summary>High-resolution time of the first transmission, for the RTT sample.</summary>
    public long FirstSentTimestamp { get; private set; }

    public void MarkSent(long nowMs, long timestamp)
    {
        // A message acknowledged while its retransmission awaited the flush may be reused by then,
        // waiting for the window: it has not left.
        if (!_launched)
            return;
        if (!IsOut)
        {
            IsOut = true;
            FirstSentMs = nowMs;
            FirstSentTimestamp = timestamp;
        }
        LastSentMs = nowMs;
    }

    public void Append(ReadOnlySpan<byte> packet)
    {
        packet.CopyTo(Reserve(packet.Length));
        Commit(packet.Length);
    }

    /// <summary>Room to encode a packet of up to <paramref name="maxLength"/> bytes in place.</summary>
    public Span<byte> Reserve(int maxLength)
    {
        var needed = _length + 2 + maxLength;
        if (needed > _packets.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _packets.Length * 2));
            _packets.AsSpan(0, _length).CopyTo(larger);
            if (_packets.Length > 0)
                ArrayPool<byte>.Shared.Return(_packets);
            _packets = larger;
        }
        return _packets.AsSpan(_length + 2, maxLength);
    }

    public void Commit(int length)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_packets.AsSpan(_length), (ushort)length);
        _length += 2 + length;
        PacketCount++;
    }

    /// <summary>Gives a message that waited for the window its sequence id, in every packet's SEQ field.</summary>
    public void AssignSequence(ushort sequence)
    {
        Sequence = sequence;
        _launched = true;
        for (var position = 0; position < _length;)
        {
            var length = BinaryPrimitives.ReadUInt16BigEndian(_packets.AsSpan(position));
            BinaryPrimitives.WriteUInt16BigEndian(_packets.AsSpan(position + 3), sequence);
            position += 2 + length;
        }
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
        PacketCount = 0;
        if (_packets.Length > 16 * 1024)
        {
            ArrayPool<byte>.Shared.Return(_packets);
            _packets = [];
        }
    }
}
