using System.Buffers;
using Paperclip.Protocol;

namespace Paperclip.Transport.Internal.Connection;

/// <summary>
/// A RELIABLE message awaiting its ACK: its DATA once (compressed when it was), the header its
/// packets share, and how it was cut into fragments, so that a retransmission queues the same
/// packets again without copying. Pooled per session.
/// </summary>
internal sealed class SentMessage
{
    // Small buffers are kept across uses; larger ones go back to the pool after each message.
    private const int KeptBufferSize = 16 * 1024;
    private byte[] _data = [];
    private int _length;
    private int _chunkCapacity;
    private PacketHeader _header;
    private bool _launched;

    public ushort Sequence => _header.Sequence;

    /// <summary>Which of the session's send streams it is on (<see cref="SendStreams.Index"/>), or −1 for a DEFAULT message.</summary>
    public int Stream { get; private set; } = -1;

    /// <summary>CHANNEL: its CSEQ on its stream.</summary>
    public ushort ChannelSequence => _header.ChannelSequence;

    /// <summary>A reliable sequenced message, which a newer acknowledged one on its stream makes moot.</summary>
    public bool IsSequenced => _header.Sequenced;

    /// <summary>Bytes it holds of the session's send buffer until acknowledged; −1 for handshake packets, which are not in it.</summary>
    public int BufferedBytes => (Framing & Framing.Alone) != 0 ? -1 : _length;

    public Framing Framing { get; private set; }

    /// <summary>When the first transmission left (set by the flush).</summary>
    public long FirstSentMs { get; private set; }

    /// <summary>High-resolution time of the first transmission, for the RTT sample.</summary>
    public long FirstSentTimestamp { get; private set; }

    /// <summary>When the latest transmission left.</summary>
    public long LastSentMs { get; private set; }

    /// <summary>High-resolution time of the latest transmission.</summary>
    public long LastSentTimestamp { get; private set; }

    /// <summary>False until the first transmission left: an ACK cannot be for it yet, nor a timeout run.</summary>
    public bool IsOut { get; private set; }

    public int Retries { get; set; }

    /// <summary>True from a resend being queued until it leaves: it is not queued twice.</summary>
    public bool ResendQueued { get; set; }

    // A packet's header and its share of the datagram's packet number and tag, as a BATCH of small
    // messages carries them: near enough for the window, which needs only the right magnitude.
    private const int PacketOverhead = 16;

    /// <summary>How many packets (fragments) the message travels as.</summary>
    public int PacketCount { get; private set; }

    /// <summary>Its bytes on the wire, about: its weight in the congestion window.</summary>
    public int Weight => _length + (PacketCount * PacketOverhead);

    /// <summary>True when the message travels as FRAG fragments, which the peer must hold while it reassembles.</summary>
    public bool IsFragmented => (_header.Flags & PacketFlags.Frag) != 0;

    /// <summary>Message bytes (as sent, before framing): what the peer's reassembly holds for it.</summary>
    public int MessageBytes => _length;

    public ReadOnlySpan<byte> Data => _data.AsSpan(0, _length);

    /// <summary>Takes a copy of the message. <paramref name="header"/> carries its type, flags, checksum and fragment count.</summary>
    public void Start(in PacketHeader header, ReadOnlySpan<byte> data, int chunkCapacity, Framing framing)
    {
        if (_data.Length < data.Length)
        {
            ReturnBuffer();
            _data = ArrayPool<byte>.Shared.Rent(data.Length);
        }
        data.CopyTo(_data);
        _length = data.Length;
        _header = header;
        Stream = header.Type == PacketType.Channel ? SendStreams.Index(header) : -1;
        _chunkCapacity = chunkCapacity;
        Framing = framing;
        PacketCount = IsFragmented ? header.FragmentCount : 1;
        IsOut = false;
        _launched = false;
        Retries = 0;
    }

    /// <summary>Gives the message its sequence id (when it enters the window).</summary>
    public void AssignSequence(ushort sequence)
    {
        _header.Sequence = sequence;
        _launched = true;
    }

    /// <summary>Queues every packet of the message.</summary>
    public void QueueInto(OutgoingPackets queue)
    {
        if (!IsFragmented)
        {
            queue.Add(_header, this, 0, _length, Framing);
            return;
        }
        var header = _header;
        for (var i = 0; i < PacketCount; i++)
        {
            header.FragmentId = (byte)i;
            var offset = i * _chunkCapacity;
            queue.Add(header, this, offset, Math.Min(_chunkCapacity, _length - offset), Framing);
        }
    }

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
        LastSentTimestamp = timestamp;
        ResendQueued = false;
    }

    /// <summary>Returns a large buffer to the pool; small ones stay for reuse.</summary>
    public void Reset()
    {
        _length = 0;
        _launched = false;
        ResendQueued = false;
        IsOut = false;
        if (_data.Length > KeptBufferSize)
            ReturnBuffer();
    }

    private void ReturnBuffer()
    {
        if (_data.Length > 0)
            ArrayPool<byte>.Shared.Return(_data);
        _data = [];
    }
}
