using Paperclip.Protocol;
using Paperclip.Transport.Internal.Connection.Congestion;

namespace Paperclip.Transport.Internal.Connection;

/// <summary>What a look at the messages in flight found.</summary>
internal enum RetransmitOutcome
{
    Nothing,
    Queued,
    /// <summary>A message stayed unacknowledged past the reliable timeout: the session must end.</summary>
    Expired,
}

/// <summary>
/// RELIABLE messages from launch to ACK (protocol §4): the congestion window and the backlog of
/// messages waiting for it, the in-flight set by sequence id, RTT samples (Karn), paced
/// retransmission with doubling backoff, and the reliable timeout; the SEQ window of §3.1 and the
/// channel streams' send windows (<see cref="SendStreams"/>) hold messages back too.
/// </summary>
internal sealed class SentMessages
{
    private readonly InFlightMessages _inFlight = new();
    private readonly SendStreams _streams;
    private readonly Action<ushort> _moot;
    private readonly Queue<SentMessage> _backlog = new();
    private readonly Stack<SentMessage> _spare = new();
    private readonly List<SentMessage> _awaitingFlush = [];
    private readonly List<SentMessage> _acknowledgedSinceFlush = [];
    // Resent messages in the order their copies left, for the ACK-timed loss check.
    private readonly Queue<(SentMessage Message, ushort Sequence, long SentMs)> _resent = new();
    // Ordered streams whose oldest unacknowledged message an ACK moved (one bit per stream).
    private readonly ulong[] _headMoved = new ulong[(SendStreams.Count + 63) / 64];
    private readonly SequenceCounter _sequences;
    private readonly ICongestionController _congestion;
    private readonly int _maxPartialMessages;
    private readonly int _maxPartialBytes;
    private readonly long _reliableTimeoutMs;
    private readonly double _maxRetransmissionTimeoutMs;
    private readonly TimeProvider _time;
    // A message sent once and still unacknowledged this many ids below the largest one acknowledged
    // is lost (RFC 9002 §6.1.1's packet threshold): not merely overtaken by reordering.
    private const int PacketThreshold = 3;

    private int _inFlightPackets;
    private long _inFlightBytes;
    // Ids up to this one were looked at for losses; every later ACK looks only above it.
    private ushort _lossScanned;
    private bool _lossScanStarted;
    private int _fragmentedInFlight;
    private int _fragmentedBytesInFlight;
    private double _retransmitCredit;
    private long _lastRetransmitMs;
    private long _nextCheckMs = long.MaxValue;
    // No message in flight was last sent before this (a lower bound; exact after each look).
    private long _earliestLastSentMs = long.MaxValue;

    public SentMessages(TransportSettings settings, SequenceCounter sequences, ICongestionController congestion)
    {
        _time = settings.TimeProvider;
        _sequences = sequences;
        _streams = new SendStreams(_inFlight);
        _congestion = congestion;
        _maxPartialMessages = settings.MaxPartialMessages;
        _maxPartialBytes = settings.MaxPartialBytes;
        _reliableTimeoutMs = settings.ReliableTimeoutMs;
        _maxRetransmissionTimeoutMs = settings.MaxRetransmissionTimeoutMs;
        Rtt = new RttEstimator(settings.InitialRetransmissionTimeoutMs, settings.MaxRetransmissionTimeoutMs);
        _moot = sequence =>
        {
            var noSample = true;
            Acked(sequence, timestamp: 0, ref noSample, out _);
        };
    }

    /// <summary>The CHANNEL streams' CSEQ counters and windows.</summary>
    public SendStreams Streams => _streams;

    /// <summary>
    /// False while the next SEQ would be 32768 or more past the oldest unacknowledged RELIABLE
    /// message (protocol §3.1): a SEQ must never be reused while its message may be resent.
    /// </summary>
    public bool CanTakeSequence
    {
        get => _inFlight.Count == 0 || (ushort)(_sequences.Next - _inFlight.Oldest) < ProtocolConstants.SequenceWindow;
    }

    public RttEstimator Rtt { get; }

    public int InFlightCount => _inFlight.Count;

    public int InFlightPackets => _inFlightPackets;

    /// <summary>The weight (<see cref="SentMessage.Weight"/>) of the messages in flight: what the congestion window bounds.</summary>
    public long InFlightBytes => _inFlightBytes;

    public int BacklogCount => _backlog.Count;

    /// <summary>When the in-flight messages next need a look (a retransmission or the timeout may be due); may be early, never late.</summary>
    public long Deadline => _inFlight.Count == 0 ? long.MaxValue : _nextCheckMs;

    /// <summary>Called with the sequence id of each message acknowledged (or made moot) and the send-buffer bytes it held.</summary>
    public Action<ushort, int>? Acknowledged { get; set; }

    /// <summary>A message object to fill with <see cref="SentMessage.Start"/>.</summary>
    public SentMessage Rent() => _spare.Count > 0 ? _spare.Pop() : new SentMessage();

    /// <summary>
    /// Sends the message now (its packets queued, a sequence id taken), or keeps it in the backlog,
    /// without a sequence id yet, until the window admits it. Handshake packets pass
    /// <paramref name="sequence"/> and skip the window.
    /// </summary>
    public void Launch(SentMessage message, OutgoingPackets queue, ushort? sequence = null)
    {
        if (sequence is null && (_backlog.Count > 0 || !Admits(message)))
        {
            _backlog.Enqueue(message);
            return;
        }
        Start(message, sequence ?? _sequences.Take(), queue);
    }

    /// <summary>
    /// Marks ACK_ID and the ids of ACK_BITS acknowledged, resends at once what they show lost, and
    /// launches what the window now admits. Lost: a message sent once and
    /// <see cref="PacketThreshold"/> ids or more below the largest acknowledged; or a resent one
    /// whose copy left before the acknowledged copy of another message.
    /// </summary>
    public void OnAck(ushort ackId, ushort ackBits, long now, OutgoingPackets queue, ConnectionStatistics statistics)
    {
        var timeout = Rtt.TimeoutMs;
        var timestamp = _time.GetTimestamp();
        // One RTT sample per ACK, as RFC 9002 §5.1 takes it: from the newest message it newly
        // acknowledges that left only once. Samples from the older ones it also covers would add
        // nothing but their position in the batch.
        var sampled = false;
        var acknowledged = Acked(ackId, timestamp, ref sampled, out var latestSentMs);
        var largest = ackId;
        for (var i = 0; ackBits != 0; i++, ackBits >>= 1)
        {
            var sequence = (ushort)(ackId - 1 - i);
            if ((ackBits & 1) == 0 || !Acked(sequence, timestamp, ref sampled, out var sentMs))
                continue;
            latestSentMs = Math.Max(latestSentMs, sentMs);
            if (!acknowledged)
            {
                acknowledged = true;
                largest = sequence;
            }
        }
        if (acknowledged)
        {
            ResendLost((ushort)(largest - PacketThreshold), now, queue, statistics);
            ResendLostAgain(latestSentMs, now, queue, statistics);
            ResendNewHeads(now, queue, statistics);
        }
        // A shorter RTO brings every due time forward: none is earlier than the earliest send plus it.
        if (Rtt.TimeoutMs < timeout && _inFlight.Count > 0)
            _nextCheckMs = Math.Min(_nextCheckMs, _earliestLastSentMs + (long)Rtt.BackoffMs(0));
        while (_backlog.Count > 0 && Admits(_backlog.Peek()))
            Start(_backlog.Dequeue(), _sequences.Take(), queue);
    }

    /// <summary>The queued packets left: their timers start now.</summary>
    public void OnFlushed(long now, long timestamp)
    {
        if (_awaitingFlush.Count > 0)
        {
            _nextCheckMs = Math.Min(_nextCheckMs, now + (long)Rtt.BackoffMs(0));
            _earliestLastSentMs = Math.Min(_earliestLastSentMs, now);
        }
        foreach (var message in _awaitingFlush)
        {
            message.MarkSent(now, timestamp);
            if (message.Retries > 0 && message.IsOut)
                _resent.Enqueue((message, message.Sequence, now));
        }
        _awaitingFlush.Clear();
        // Acknowledged messages are reused only once no queued packet can still point at them.
        foreach (var message in _acknowledgedSinceFlush)
        {
            message.Reset();
            _spare.Push(message);
        }
        _acknowledgedSinceFlush.Clear();
    }

    /// <summary>
    /// Queues the messages whose backoff ran out, paced to one window per smoothed RTT: whole
    /// fragmented messages resent at once would otherwise swamp a congested path and keep it
    /// congested. But never slower than everything in flight once per maximum backoff: data
    /// launched under a large window must still get its retries before the reliable timeout when
    /// the window has since collapsed. A due message left out stays due and goes first later.
    /// </summary>
    public RetransmitOutcome Retransmit(long now, OutgoingPackets queue, ConnectionStatistics statistics)
    {
        var elapsed = now - _lastRetransmitMs;
        _lastRetransmitMs = now;
        var window = _congestion.Window;
        var bytesPerMs = Math.Max(window / Math.Max(Rtt.SmoothedMs, 1), _inFlightBytes / _maxRetransmissionTimeoutMs);
        _retransmitCredit = Math.Min(window, _retransmitCredit + (bytesPerMs * elapsed));
        var queued = false;
        var next = long.MaxValue;
        var earliestLastSent = long.MaxValue;
        foreach (var message in _inFlight)
        {
            if (!message.IsOut)
                continue;
            if (now - message.FirstSentMs >= _reliableTimeoutMs)
                return RetransmitOutcome.Expired;
            var due = message.LastSentMs + (long)Rtt.BackoffMs(message.Retries);
            if (due <= now && _retransmitCredit > 0 && !message.ResendQueued)
            {
                _congestion.OnLost(now, message.LastSentMs);
                Resend(message, statistics, queue);
                _retransmitCredit -= message.Weight;
                queued = true;
                due = now + (long)Rtt.BackoffMs(message.Retries);
            }
            else if (due <= now)
            {
                // Out of credit: back when enough has accrued for this message.
                due = now + Math.Max(1, (long)Math.Ceiling(message.Weight / bytesPerMs));
            }
            next = Math.Min(next, Math.Min(due, message.FirstSentMs + _reliableTimeoutMs));
            earliestLastSent = Math.Min(earliestLastSent, message.LastSentMs);
        }
        _nextCheckMs = next;
        _earliestLastSentMs = earliestLastSent;
        return queued ? RetransmitOutcome.Queued : RetransmitOutcome.Nothing;
    }

    /// <summary>Drops everything (the session closed).</summary>
    public void Clear()
    {
        foreach (var message in _inFlight)
            message.Reset();
        foreach (var message in _backlog)
            message.Reset();
        _inFlight.Clear();
        _backlog.Clear();
        _streams.Clear();
        _awaitingFlush.Clear();
        _acknowledgedSinceFlush.Clear();
        _resent.Clear();
        Array.Clear(_headMoved);
        _inFlightPackets = 0;
        _inFlightBytes = 0;
        _lossScanStarted = false;
        _fragmentedInFlight = 0;
        _fragmentedBytesInFlight = 0;
        _nextCheckMs = long.MaxValue;
        _earliestLastSentMs = long.MaxValue;
    }

    // Besides the congestion window, fragmented messages in flight stay within what the peer's
    // reassembly holds (protocol §8: 64 partial messages, 1 MiB; our own limits, the spec's
    // defaults, stand for the peer's): past it the peer drops the oldest partial set, and the
    // oldest message would be resent forever without completing. A message larger than the
    // window still goes when nothing else is in flight.
    private bool Admits(SentMessage message)
    {
        if (!CanTakeSequence)
            return false;
        if (message.Stream >= 0 && !message.IsSequenced && !_streams.InWindow(message.Stream, message.ChannelSequence))
            return false;
        if (message.IsFragmented && _fragmentedInFlight > 0
            && (_fragmentedInFlight >= _maxPartialMessages || _fragmentedBytesInFlight + message.MessageBytes > _maxPartialBytes))
            return false;
        return _inFlight.Count == 0 || _inFlightBytes + message.Weight <= _congestion.Window;
    }

    private void Start(SentMessage message, ushort sequence, OutgoingPackets queue)
    {
        message.AssignSequence(sequence);
        message.QueueInto(queue);
        _inFlight.Set(sequence, message);
        if (message.Stream >= 0)
            _streams.Launched(message.Stream, sequence, message.ChannelSequence);
        _inFlightPackets += message.PacketCount;
        _inFlightBytes += message.Weight;
        if (message.IsFragmented)
        {
            _fragmentedInFlight++;
            _fragmentedBytesInFlight += message.MessageBytes;
        }
        _awaitingFlush.Add(message);
    }

    // An ACK for a sequence never sent (or already acknowledged) finds nothing. A moot message
    // (an older one of a sequenced stream) gives no RTT sample: its ACK never came. sampled: true
    // once this ACK gave its sample. sentMs: when the copy the ACK answers left, where that can be
    // told; else long.MinValue.
    private bool Acked(ushort sequence, long timestamp, ref bool sampled, out long sentMs)
    {
        sentMs = long.MinValue;
        if (!_inFlight.TryGet(sequence, out var message) || !message.IsOut)
            return false;
        // When its latest copy left: certain when it left once. For a resent message, an ACK that
        // came at least half a round trip after its latest copy left is taken for that copy's (an
        // earlier copy's would, as a rule, have come sooner); a wrong guess costs one spurious resend.
        if (message.Retries == 0)
        {
            sentMs = message.LastSentMs;
            if (!sampled)
            {
                Rtt.Add(_time.GetElapsedTime(message.FirstSentTimestamp, timestamp).TotalMilliseconds);
                sampled = true;
            }
        }
        else if (_time.GetElapsedTime(message.LastSentTimestamp, timestamp).TotalMilliseconds >= Rtt.SmoothedMs / 2)
        {
            sentMs = message.LastSentMs;
        }
        if (message.Stream >= 0 && message.IsSequenced)
            _streams.OnSequencedAcknowledged(message, _moot);
        else if (message.Stream >= 0 && _streams.TryGetHead(message.Stream, out var head) && head == sequence)
            _headMoved[message.Stream / 64] |= 1UL << (message.Stream % 64);
        _inFlight.Remove(sequence);
        if (message.Stream >= 0 && !message.IsSequenced)
            _streams.OnOrderedRemoved(message.Stream);
        _inFlightPackets -= message.PacketCount;
        _inFlightBytes -= message.Weight;
        if (message.IsFragmented)
        {
            _fragmentedInFlight--;
            _fragmentedBytesInFlight -= message.MessageBytes;
        }
        _congestion.OnAcknowledged(message.Weight, message.LastSentMs);
        Acknowledged?.Invoke(sequence, message.BufferedBytes);
        _acknowledgedSinceFlush.Add(message);
        if (_inFlight.Count == 0)
        {
            _nextCheckMs = long.MaxValue;
            _earliestLastSentMs = long.MaxValue;
        }
        return true;
    }

    // Looks at each id once, from the oldest unacknowledged (or past the last look) up to
    // <paramref name="limit"/>: a message there sent once and not acknowledged went missing while
    // later ones arrived. Resent messages that go missing again are left to their timeout, since an
    // ACK cannot tell which copy it answers.
    private void ResendLost(ushort limit, long now, OutgoingPackets queue, ConnectionStatistics statistics)
    {
        if (_inFlight.Count == 0)
            return;
        var oldest = _inFlight.Oldest;
        var span = (ushort)(limit - oldest);
        if (span >= ProtocolConstants.SequenceWindow)
            return; // nothing in flight at or below the limit
        var start = oldest;
        if (_lossScanStarted && (ushort)(_lossScanned - oldest) <= span)
        {
            if (_lossScanned == limit)
                return;
            start = (ushort)(_lossScanned + 1);
        }
        _lossScanned = limit;
        _lossScanStarted = true;
        for (var sequence = start; ; sequence++)
        {
            if (_inFlight.TryGet(sequence, out var message) && message.IsOut && message.Retries == 0 && !message.ResendQueued)
            {
                _congestion.OnLost(now, message.LastSentMs);
                ResendNow(message, now, queue, statistics);
            }
            if (sequence == limit)
                break;
        }
    }

    // A copy that left before the copy an ACK answers went missing: the path delivered what came
    // after it. Without this a message
    // the peer refused (its held bound full) would wait out ever-doubling timeouts while every
    // later one is acknowledged. Entries of messages acknowledged or resent since are skipped.
    private void ResendLostAgain(long acknowledgedSentMs, long now, OutgoingPackets queue, ConnectionStatistics statistics)
    {
        while (_resent.Count > 0 && _resent.Peek().SentMs < acknowledgedSentMs)
        {
            var (message, sequence, sentMs) = _resent.Dequeue();
            if (!_inFlight.TryGet(sequence, out var current) || !ReferenceEquals(current, message) || message.LastSentMs != sentMs || message.ResendQueued)
                continue;
            _congestion.OnLost(now, sentMs);
            ResendNow(message, now, queue, statistics);
        }
    }

    // The head of an ordered stream that was resent before may have been refused while it was not
    // the head (the receiver's held bound full): now that the receiver waits for it, and never
    // refuses it, it goes at once rather than after its doubled timeout.
    private void ResendNewHeads(long now, OutgoingPackets queue, ConnectionStatistics statistics)
    {
        for (var word = 0; word < _headMoved.Length; word++)
        {
            for (var bits = _headMoved[word]; bits != 0; bits &= bits - 1)
            {
                var stream = (word * 64) + System.Numerics.BitOperations.TrailingZeroCount(bits);
                if (_streams.TryGetHead(stream, out var sequence)
                    && _inFlight.TryGet(sequence, out var head) && head is { IsOut: true, Retries: > 0, ResendQueued: false })
                    ResendNow(head, now, queue, statistics);
            }
            _headMoved[word] = 0;
        }
    }

    // A resend outside the timer's look: its next timeout must be on the deadline too.
    private void ResendNow(SentMessage message, long now, OutgoingPackets queue, ConnectionStatistics statistics)
    {
        Resend(message, statistics, queue);
        _nextCheckMs = Math.Min(_nextCheckMs, now + (long)Rtt.BackoffMs(message.Retries));
    }

    private void Resend(SentMessage message, ConnectionStatistics statistics, OutgoingPackets queue)
    {
        message.ResendQueued = true;
        message.QueueInto(queue);
        message.Retries++;
        _awaitingFlush.Add(message);
        statistics.Retransmissions++;
    }
}
