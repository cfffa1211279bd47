using Paperclip.Protocol;

namespace Paperclip.Transport.Internal.Connection;

/// <summary>
/// The sending side of a session's CHANNEL streams (protocol §2.2): each stream's next CSEQ, and
/// for reliable streams their messages in flight in CSEQ order — an ordered stream stays within
/// its send window of the oldest unacknowledged one, and a sequenced stream's older messages are
/// moot once a newer one is acknowledged. Streams are made on first use: a session that never
/// uses channels holds one small array.
/// </summary>
internal sealed class SendStreams(InFlightMessages inFlight)
{
    /// <summary>Streams per session: 64 channels × (ordered, reliable sequenced, unreliable sequenced).</summary>
    public const int Count = 3 * ProtocolConstants.ChannelCount;

    private readonly ushort[] _next = new ushort[Count];
    // Per reliable stream, its messages launched and not yet known to have left flight, in CSEQ order.
    private readonly Queue<(ushort Sequence, ushort ChannelSequence)>?[] _launched = new Queue<(ushort, ushort)>?[Count];

    /// <summary>The stream a CHANNEL header is on.</summary>
    public static int Index(in PacketHeader header)
    {
        var kind = !header.Sequenced ? 0 : (header.Flags & PacketFlags.Reliable) != 0 ? 1 : 2;
        return (kind * ProtocolConstants.ChannelCount) + header.Channel;
    }

    /// <summary>Gives the message its CSEQ: the stream's next.</summary>
    public void Number(ref PacketHeader header) => header.ChannelSequence = _next[Index(header)]++;

    /// <summary>A reliable message of a stream entered flight under <paramref name="sequence"/>.</summary>
    public void Launched(int stream, ushort sequence, ushort channelSequence) =>
        (_launched[stream] ??= new Queue<(ushort, ushort)>()).Enqueue((sequence, channelSequence));

    /// <summary>
    /// True when an ordered message with <paramref name="channelSequence"/> is inside its stream's
    /// send window: less than 4096 past the oldest message of the stream still in flight.
    /// </summary>
    public bool InWindow(int stream, ushort channelSequence) =>
        _launched[stream] is not { Count: > 0 } queue
        || (ushort)(channelSequence - queue.Peek().ChannelSequence) < ProtocolConstants.OrderedSendWindow;

    /// <summary>
    /// An ordered stream's message left flight (acknowledged): the stream's oldest entry moves to
    /// its oldest message still in flight, so that the window and the head are read without a
    /// lookup. Each entry is passed over once, while its message was just touched by the ACK.
    /// </summary>
    public void OnOrderedRemoved(int stream)
    {
        var queue = _launched[stream];
        while (queue is { Count: > 0 } && !IsInFlight(queue.Peek(), stream))
            queue.Dequeue();
    }

    /// <summary>
    /// A reliable sequenced message was acknowledged: every older message of its stream still in
    /// flight is moot. Calls <paramref name="moot"/> with each one's sequence id.
    /// </summary>
    public void OnSequencedAcknowledged(SentMessage acknowledged, Action<ushort> moot)
    {
        var queue = _launched[acknowledged.Stream];
        while (queue is { Count: > 0 })
        {
            var (sequence, channelSequence) = queue.Peek();
            if (sequence == acknowledged.Sequence)
            {
                queue.Dequeue();
                return;
            }
            // Serial arithmetic: older when the acknowledged CSEQ is newer than it (§3.1).
            if ((ushort)(acknowledged.ChannelSequence - channelSequence) is 0 or >= 32768)
                return;
            queue.Dequeue();
            if (IsInFlight((sequence, channelSequence), acknowledged.Stream))
                moot(sequence);
        }
    }

    /// <summary>
    /// The oldest message of an ordered stream still in flight, if any: every earlier one was
    /// acknowledged, so it is the one the receiver waits for, which it never refuses (§2.2).
    /// </summary>
    public bool TryGetHead(int stream, out ushort sequence)
    {
        sequence = 0;
        if (_launched[stream] is not { Count: > 0 } queue)
            return false;
        sequence = queue.Peek().Sequence;
        return true;
    }

    public void Clear() => Array.Clear(_launched);

    private bool IsInFlight((ushort Sequence, ushort ChannelSequence) entry, int stream) =>
        inFlight.TryGet(entry.Sequence, out var message) && message.Stream == stream && message.ChannelSequence == entry.ChannelSequence;
}
