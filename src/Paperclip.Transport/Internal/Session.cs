using System.Buffers;
using System.Net;
using System.Text;
using System.Text.Unicode;
using Microsoft.Extensions.Logging;
using Paperclip.Protocol;
using Paperclip.Protocol.Crypto;

namespace Paperclip.Transport.Internal;

/// <summary>
/// One peer's connected state, shared by client and server (protocol §3–§4, §6.3–§6.5): the
/// send pipeline, the receive pipeline, reliability, heartbeats and closing.
/// Threads: the socket's receive loop alone runs the receive side; application sends, the
/// timer and the receive side's ACKs meet under <see cref="_sendLock"/>; sealing and socket
/// sends run under <see cref="_flushLock"/> (the flusher thread, or a close). No user code runs
/// under either lock.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Close() releases the session's buffers; a session ends by closing, not by disposal.")]
internal abstract partial class Session
{
    private const int MaxPacketErrorsPerSecond = 10;
    private const int DisconnectRepeats = 3;

    // Congestion window in packets (fragments) of RELIABLE messages in flight (AIMD, as TCP Reno
    // counts bytes): an acknowledged message grows it by its packets in slow start and by its
    // share of one packet per window after; a retransmission timeout halves it, at most once per
    // RTO. Counting packets, not messages, keeps 200 KB messages from flooding a slow path. The cap
    // keeps in-flight ids (at most one per packet) far inside half the sequence space (§4). A
    // message larger than the window still goes when nothing else is in flight.
    private const double InitialWindow = 64;
    private const double MinWindow = 16;
    private const double MaxWindow = 16_384;

    private readonly Lock _sendLock = new();
    private readonly Lock _flushLock = new();
    private readonly Lock _reassemblyLock = new();
    private readonly IDatagramSink _sink;
    private readonly ILogger _logger;
    private readonly ReceivedWindow _received = new();
    private readonly ReplayWindow _replay = new();
    private readonly ReassemblyBuffer _reassembly;
    private readonly Dictionary<ushort, ReliableMessage> _inFlight = [];
    private readonly Stack<ReliableMessage> _spareMessages = new();
    private readonly List<ReliableMessage> _awaitingFlush = [];
    private readonly Queue<ReliableMessage> _backlog = new();
    private readonly RttEstimator _rtt;
    private OutgoingQueue _queued = new();
    private OutgoingQueue _flushing = new();
    private PacketProtection? _sender;
    private PacketProtection? _receiver;
    private ushort _nextSequence;
    private double _window = InitialWindow;
    private int _inFlightPackets;
    private double _retransmitCredit;
    private long _lastRetransmitMs;
    private int _fragmentedInFlight;
    private int _fragmentedBytesInFlight;
    private double _slowStartThreshold = MaxWindow;
    private long _lastWindowCutMs = long.MinValue / 2; // "long ago", without overflow in now − it
    private ulong _nextPacketNumber;
    private bool _ackPending;
    private ushort _ackId;
    private ushort _ackOldest;
    private ushort _ackBits;
    private int _flushRequested;
    private int _closed;
    private long _lastReceivedMs;
    private long _lastPingMs;
    private long _errorWindowStartMs;
    private int _errorsInWindow;

    protected Session(IDatagramSink sink, SocketAddress remote, PaperclipOptions options, Clock clock, ReassemblyBudget? budget, ILogger logger)
    {
        _logger = logger;
        _sink = sink;
        Remote = remote;
        RemoteEndPoint = remote.ToIPEndPoint();
        Options = options;
        Clock = clock;
        _rtt = new RttEstimator(options.InitialRetransmissionTimeout.TotalMilliseconds, options.MaxRetransmissionTimeout.TotalMilliseconds);
        _reassembly = new ReassemblyBuffer(options.MaxPartialMessages, options.MaxPartialBytes, options.MaxMessageSize, budget);
        _lastReceivedMs = clock.NowMilliseconds;
        _lastPingMs = _lastReceivedMs;
    }

    public SocketAddress Remote { get; }

    public IPEndPoint RemoteEndPoint { get; }

    public PaperclipOptions Options { get; }

    public Clock Clock { get; }

    public ConnectionStatistics Statistics { get; } = new();

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    public bool IsEncrypted => _sender is not null;

    protected EncryptionPolicy Policy => Options.EncryptionPolicy;

    /// <summary>Takes the next sequence id (handshake messages use it too).</summary>
    public ushort NextSequence()
    {
        lock (_sendLock)
            return _nextSequence++;
    }

    /// <summary>Makes <paramref name="next"/> the next sequence id (a session continues the handshake's numbering).</summary>
    public void ContinueSequenceAt(ushort next)
    {
        lock (_sendLock)
            _nextSequence = next;
    }

    /// <summary>Installs the keys of a completed handshake: from now on packets can be sealed and opened.</summary>
    public void Activate(SessionKeys keys, bool isClient)
    {
        lock (_flushLock)
        {
            _sender = keys.CreateSender(isClient);
            _receiver = keys.CreateReceiver(isClient);
        }
        _lastReceivedMs = Clock.NowMilliseconds;
    }

    // ---------------------------------------------------------------- sending

    /// <summary>Queues an application message (protocol §3.2). Throws for a message that cannot be sent.</summary>
    public void Send(ReadOnlySpan<byte> data, PacketFlags flags)
    {
        if ((flags & ~PacketRules.AllFlags) != 0)
            throw new ArgumentException("Unknown flag.", nameof(flags));
        ObjectDisposedException.ThrowIf(IsClosed, this);
        if (data.Length > Options.MaxMessageSize)
            throw new SizeException($"{data.Length} bytes exceed the maximum message size of {Options.MaxMessageSize}.");

        var seal = Policy == EncryptionPolicy.Required || (flags & PacketFlags.Encrypted) != 0;
        if (seal && !IsEncrypted)
            throw new InvalidOperationException("The session has no keys yet.");
        flags &= ~PacketFlags.Encrypted;
        var header = PacketHeader.Create(PacketType.Default, flags, 0);
        if ((flags & PacketFlags.Checksum) != 0)
            header.Checksum = Checksum.Compute(data);

        byte[]? compressed = null;
        try
        {
            if ((flags & PacketFlags.Compressed) != 0)
            {
                compressed = ArrayPool<byte>.Shared.Rent(Deflate.MaxCompressedLength(data.Length));
                data = compressed.AsSpan(0, Deflate.Compress(data, compressed));
            }
            QueueMessage(ref header, data, seal ? Framing.Sealed : Framing.Plain);
        }
        finally
        {
            if (compressed is not null)
                ArrayPool<byte>.Shared.Return(compressed);
        }
        Statistics.MessagesSent++;
        RequestFlush();
    }

    /// <summary>Queues an ERROR with a UTF-8 explanation cut to 256 bytes (on a character boundary).</summary>
    public void SendError(ErrorCode code, string message)
    {
        if (code.Major == ErrorMajor.Disconnect)
            throw new ArgumentException("End a session with Close, not with a DISCONNECT error.", nameof(code));
        ObjectDisposedException.ThrowIf(IsClosed, this);
        Span<byte> text = stackalloc byte[ProtocolConstants.MaxErrorTextSize];
        Utf8.FromUtf16(message, text, out _, out var written, replaceInvalidSequences: true, isFinalBlock: false);
        var header = PacketHeader.Create(PacketType.Error, PacketFlags.None, 0);
        header.Error = code;
        QueueControl(header, text[..written]);
    }

    /// <summary>Queues a control message (ACK-less HEARTBEAT or ERROR), sealed when keys exist.</summary>
    protected void QueueControl(PacketHeader header, ReadOnlySpan<byte> data)
    {
        QueueMessage(ref header, data, IsEncrypted ? Framing.Sealed : Framing.Plain);
        RequestFlush();
    }

    /// <summary>Queues a handshake packet that travels alone and in plaintext, reliable or not.</summary>
    protected void QueueHandshakePacket(PacketHeader header, ReadOnlySpan<byte> data)
    {
        QueueMessage(ref header, data, Framing.Plain | Framing.Alone, sequenceAssigned: true);
        RequestFlush();
    }

    private void QueueMessage(ref PacketHeader header, ReadOnlySpan<byte> data, Framing framing, bool sequenceAssigned = false)
    {
        var sealedForm = (framing & Framing.Sealed) != 0 ? PacketFlags.Encrypted : PacketFlags.None;
        var tag = sealedForm != 0 ? ProtocolConstants.TagSize : 0;
        var whole = (header.Flags & PacketFlags.Frag) == 0
            && PacketWriter.HeaderLength(header.Type, header.Flags | sealedForm) + data.Length + tag <= Options.MaxDatagramSize;
        var count = 1;
        var capacity = 0;
        if (!whole)
        {
            if (header.Type != PacketType.Default)
                throw new SizeException("Only DEFAULT messages fragment.");
            header.Flags |= PacketFlags.Frag;
            capacity = Fragmenter.ChunkCapacity(Options.MaxDatagramSize, PacketWriter.HeaderLength(header.Type, header.Flags | sealedForm), sealedForm != 0);
            count = Fragmenter.FragmentCount(data.Length, capacity);
            if (count > ProtocolConstants.MaxFragments)
                throw new SizeException($"{data.Length} bytes need {count} fragments; at most {ProtocolConstants.MaxFragments} are allowed.");
            header.FragmentCount = (byte)count;
        }

        var reliable = (header.Flags & PacketFlags.Reliable) != 0;
        lock (_sendLock)
        {
            ReliableMessage? message = null;
            if (reliable)
            {
                message = _spareMessages.Count > 0 ? _spareMessages.Pop() : new ReliableMessage();
                message.Start(framing, fragmented: !whole, data.Length);
            }
            // A RELIABLE message beyond the congestion window waits, without a sequence id yet.
            var waits = reliable && !sequenceAssigned && (_backlog.Count > 0 || !WindowAdmits(message!, count));
            if (!sequenceAssigned && !waits)
                header.Sequence = _nextSequence++;
            for (var i = 0; i < count; i++)
            {
                var chunk = whole ? data : Fragmenter.Chunk(data, i, capacity);
                header.FragmentId = (byte)i;
                var maxLength = PacketWriter.HeaderLength(header.Type, header.Flags) + chunk.Length;
                var room = waits ? message!.Reserve(maxLength) : _queued.Reserve(maxLength);
                var length = PacketWriter.WriteHeader(room, header);
                chunk.CopyTo(room[length..]);
                length += chunk.Length;
                if (waits)
                {
                    message!.Commit(length);
                    continue;
                }
                _queued.Commit(length, framing);
                message?.Append(room[..length]);
            }
            if (waits)
                _backlog.Enqueue(message!);
            else if (message is not null)
                Launch(message, header.Sequence, queue: false);
        }
    }

    // Under _sendLock: the message is on its way (its packets queued), awaiting its ACK.
    private void Launch(ReliableMessage message, ushort sequence, bool queue)
    {
        message.AssignSequence(sequence);
        if (queue)
            message.QueueInto(_queued);
        _inFlight[sequence] = message;
        _inFlightPackets += message.PacketCount;
        if (message.IsFragmented)
        {
            _fragmentedInFlight++;
            _fragmentedBytesInFlight += message.MessageBytes;
        }
        _awaitingFlush.Add(message);
    }

    // Under _sendLock: the message is acknowledged or abandoned.
    private void Land(ReliableMessage message)
    {
        _inFlightPackets -= message.PacketCount;
        if (message.IsFragmented)
        {
            _fragmentedInFlight--;
            _fragmentedBytesInFlight -= message.MessageBytes;
        }
    }

    // Under _sendLock. Besides the congestion window, fragmented messages in flight stay within
    // what the peer's reassembly holds (protocol §8: 64 partial messages, 1 MiB; our own limits,
    // the spec's defaults, stand for the peer's): past it the peer drops the oldest partial set,
    // and the oldest message would be resent forever without completing.
    private bool WindowAdmits(ReliableMessage message, int packets)
    {
        if (message.IsFragmented && _fragmentedInFlight > 0
            && (_fragmentedInFlight >= Options.MaxPartialMessages || _fragmentedBytesInFlight + message.MessageBytes > Options.MaxPartialBytes))
            return false;
        return _inFlight.Count == 0 || _inFlightPackets + packets <= (int)_window;
    }

    // Under _sendLock: moves waiting messages into the window as it opens.
    private void LaunchWaiting()
    {
        while (_backlog.Count > 0 && WindowAdmits(_backlog.Peek(), _backlog.Peek().PacketCount))
            Launch(_backlog.Dequeue(), _nextSequence++, queue: true);
    }

    private void RequestFlush()
    {
        if (Interlocked.Exchange(ref _flushRequested, 1) == 0)
            _sink.RequestFlush(this);
    }

    /// <summary>Sends what is queued, coalescing small packets into BATCH datagrams (protocol §2.1). Flusher thread.</summary>
    public void Flush(byte[] scratch)
    {
        Volatile.Write(ref _flushRequested, 0);
        if (FlushQueued(scratch))
            Close(DisconnectReason.Disconnect, notifyPeer: true, "packet numbers exhausted");
    }

    // True when the packet numbers of this key are spent (protocol §6.3): the session must end.
    private bool FlushQueued(byte[] scratch)
    {
        lock (_flushLock)
        {
            lock (_sendLock)
            {
                if (_ackPending)
                {
                    QueueAck(_ackId, _ackBits);
                    _ackPending = false;
                }
                (_queued, _flushing) = (_flushing, _queued);
                // Timeouts count from when a message leaves, not from when it was queued behind a burst.
                var now = Clock.NowMilliseconds;
                var timestamp = Clock.Timestamp;
                foreach (var message in _awaitingFlush)
                    message.MarkSent(now, timestamp);
                _awaitingFlush.Clear();
            }
            var queue = _flushing;
            // The three DISCONNECTs that end the session take packet numbers too, below the limit.
            if (IsClosed || _nextPacketNumber + (ulong)queue.Count + DisconnectRepeats >= ProtocolConstants.PacketNumberLimit)
            {
                queue.Clear();
                return !IsClosed;
            }
            var max = Options.MaxDatagramSize;
            for (var i = 0; i < queue.Count;)
            {
                var first = queue[i];
                var end = i + 1;
                if (!first.IsAlone)
                {
                    var size = (first.IsSealed ? ProtocolConstants.FixedHeaderSize + ProtocolConstants.PacketNumberSize + ProtocolConstants.TagSize : ProtocolConstants.FixedHeaderSize)
                        + Batch.EntryOverhead + first.Length;
                    while (end < queue.Count && queue[end].Framing == first.Framing && size + Batch.EntryOverhead + queue[end].Length <= max)
                        size += Batch.EntryOverhead + queue[end++].Length;
                }
                var length = end - i == 1 ? FrameSingle(queue, first, scratch) : FrameBatch(queue, i, end, first.IsSealed, scratch);
                SendDatagram(scratch.AsSpan(0, length));
                i = end;
            }
            queue.Clear();
            return false;
        }
    }

    private int FrameSingle(OutgoingQueue queue, in OutgoingQueue.Entry entry, byte[] scratch)
    {
        var packet = queue.Packet(entry);
        if (!entry.IsSealed)
        {
            packet.CopyTo(scratch);
            return packet.Length;
        }
        PacketReader.TryRead(packet, out var header, out _);
        header.Flags |= PacketFlags.Encrypted;
        header.PacketNumber = _nextPacketNumber++;
        var headerLength = PacketWriter.WriteHeader(scratch, header);
        var data = packet[header.Length..];
        data.CopyTo(scratch.AsSpan(headerLength));
        return _sender!.Seal(scratch, headerLength, data.Length, header.PacketNumber);
    }

    private int FrameBatch(OutgoingQueue queue, int start, int end, bool seal, byte[] scratch)
    {
        var header = PacketHeader.Create(PacketType.Batch, seal ? PacketFlags.Encrypted : PacketFlags.None, 0);
        if (seal)
            header.PacketNumber = _nextPacketNumber++;
        var headerLength = PacketWriter.WriteHeader(scratch, header);
        var position = headerLength;
        for (var i = start; i < end; i++)
        {
            var packet = queue.Packet(queue[i]);
            Batch.WriteEntryLength(scratch.AsSpan(position), packet.Length);
            packet.CopyTo(scratch.AsSpan(position + Batch.EntryOverhead));
            position += Batch.EntryOverhead + packet.Length;
        }
        return seal ? _sender!.Seal(scratch, headerLength, position - headerLength, header.PacketNumber) : position;
    }

    private void SendDatagram(ReadOnlySpan<byte> datagram)
    {
        Statistics.DatagramsSent++;
        Statistics.BytesSent += datagram.Length;
        _sink.Send(datagram, Remote);
    }

    /// <summary>Sends a datagram now, bypassing the queue (handshake repeats).</summary>
    protected void SendNow(ReadOnlySpan<byte> datagram)
    {
        lock (_flushLock)
            SendDatagram(datagram);
    }

    // Under _sendLock.
    private void QueueAck(ushort ackId, ushort ackBits)
    {
        var header = PacketHeader.Create(PacketType.Ack, PacketFlags.None, _nextSequence++);
        header.AckId = ackId;
        header.AckBits = ackBits;
        var room = _queued.Reserve(PacketWriter.HeaderLength(PacketType.Ack, PacketFlags.None));
        _queued.Commit(PacketWriter.WriteHeader(room, header), IsEncrypted ? Framing.Sealed : Framing.Plain);
    }

    /// <summary>Records a RELIABLE sequence id and schedules its ACK, merged with others due (protocol §4). Receive thread.</summary>
    /// <returns>False when the id was delivered before.</returns>
    public bool Acknowledge(ushort sequence)
    {
        var first = _received.Record(sequence);
        lock (_sendLock)
        {
            // One ACK covers ACK_ID and the 16 ids below it: merge while the oldest id still fits.
            if (!_ackPending)
            {
                _ackPending = true;
                _ackId = _ackOldest = sequence;
            }
            else if (SequenceNumber.IsNewer(sequence, _ackId))
            {
                if (SequenceNumber.Distance(sequence, _ackOldest) > 16)
                {
                    QueueAck(_ackId, _ackBits);
                    _ackOldest = sequence;
                }
                _ackId = sequence;
            }
            else if (SequenceNumber.Distance(_ackId, sequence) > 16)
            {
                QueueAck(_ackId, _ackBits);
                _ackId = _ackOldest = sequence;
            }
            else if (SequenceNumber.IsNewer(_ackOldest, sequence))
            {
                _ackOldest = sequence;
            }
            _ackBits = _received.AckBits(_ackId);
        }
        RequestFlush();
        return first;
    }

    // ---------------------------------------------------------------- receiving

    /// <summary>Handles one datagram from the peer (protocol §3.3 steps 2–8). Receive thread.</summary>
    public void Receive(Span<byte> datagram, in PacketHeader header)
    {
        Statistics.DatagramsReceived++;
        Statistics.BytesReceived += datagram.Length;
        if (IsClosed)
            return;

        var data = datagram[header.Length..];
        var encrypted = (header.Flags & PacketFlags.Encrypted) != 0;
        if (encrypted)
        {
            if (_receiver is null)
            {
                Statistics.Drop(DropReason.NotAdmitted);
                return;
            }
            if (!_replay.IsFresh(header.PacketNumber))
            {
                Statistics.Drop(DropReason.Replay);
                return;
            }
            if (!_receiver.TryOpen(datagram, header.Length, header.PacketNumber, out var plaintextLength))
            {
                Statistics.Drop(DropReason.Authentication);
                return;
            }
            _replay.Record(header.PacketNumber);
            data = datagram.Slice(header.Length, plaintextLength);
        }
        else
        {
            // Handshake packets stay plaintext after the handshake (protocol §5.4); anything else
            // in plaintext is admitted only under the optional policy.
            if (header.Type is PacketType.Auth or PacketType.Ack or PacketType.Error && OnPlaintextHandshake(datagram, header))
                return;
            if (header.Type == PacketType.Auth || (Policy == EncryptionPolicy.Required && IsEncrypted))
            {
                Statistics.Drop(DropReason.NotAdmitted);
                return;
            }
        }
        _lastReceivedMs = Clock.NowMilliseconds;

        if (header.Type != PacketType.Batch)
        {
            ProcessPacket(header, data, encrypted);
            return;
        }
        var batch = new BatchReader(data);
        while (batch.TryReadNext(out var inner))
        {
            if (PacketReader.TryRead(inner, out var innerHeader, out var error))
            {
                ProcessPacket(innerHeader, inner[innerHeader.Length..], encrypted);
            }
            else
            {
                Statistics.Drop(DropReason.Malformed);
                ReportPacketError(error);
            }
            if (IsClosed)
                return;
        }
        if (batch.IsMalformed)
        {
            Statistics.Drop(DropReason.Malformed);
            ReportPacketError(PacketError.Batch);
        }
    }

    /// <summary>A plaintext AUTH, ACK or ERROR from the peer that may belong to the handshake; true when it was handled as such.</summary>
    protected abstract bool OnPlaintextHandshake(ReadOnlySpan<byte> datagram, in PacketHeader header);

    /// <summary>A parse failure of a datagram from this peer (the endpoint parses first).</summary>
    public void OnMalformed(PacketError error)
    {
        Statistics.Drop(DropReason.Malformed);
        ReportPacketError(error);
    }

    private void ProcessPacket(in PacketHeader header, ReadOnlySpan<byte> data, bool encrypted)
    {
        var flags = header.Flags;
        PooledBuffer reassembled = default;
        byte[]? inflated = null;
        try
        {
            if ((flags & PacketFlags.Frag) != 0)
            {
                // A fragment of a RELIABLE message delivered before means our ACK was lost: ACK it
                // again rather than hold a partial set that would never be delivered.
                if ((flags & PacketFlags.Reliable) != 0 && _received.Contains(header.Sequence))
                {
                    Acknowledge(header.Sequence);
                    Statistics.Drop(DropReason.Duplicate);
                    return;
                }
                ReassemblyStatus status;
                lock (_reassemblyLock)
                {
                    _reassembly.Expire(Clock.NowMilliseconds - (long)Options.ReassemblyTimeout.TotalMilliseconds);
                    status = _reassembly.Add(header, data, Clock.NowMilliseconds, out reassembled);
                }
                if (status != ReassemblyStatus.Complete)
                {
                    if (status is ReassemblyStatus.Discarded or ReassemblyStatus.TooLarge)
                        Statistics.Drop(DropReason.Reassembly);
                    return;
                }
                data = reassembled.Span;
            }
            if ((flags & PacketFlags.Compressed) != 0)
            {
                inflated = ArrayPool<byte>.Shared.Rent(Options.MaxMessageSize);
                if (!Deflate.TryInflate(data, inflated.AsSpan(0, Options.MaxMessageSize), out var written))
                {
                    Statistics.Drop(DropReason.Decompression);
                    ReportPacketError(PacketError.Data);
                    return;
                }
                data = inflated.AsSpan(0, written);
            }
            if ((flags & PacketFlags.Checksum) != 0 && Checksum.Compute(data) != header.Checksum)
            {
                Statistics.Drop(DropReason.Checksum);
                LogChecksumMismatch(_logger, RemoteEndPoint, header.Sequence);
                ReportPacketError(PacketError.Checksum);
                return;
            }
            if ((flags & PacketFlags.Reliable) != 0 && !Acknowledge(header.Sequence))
            {
                Statistics.Drop(DropReason.Duplicate);
                return;
            }
            Dispatch(header, data, encrypted);
        }
        finally
        {
            reassembled.Dispose();
            if (inflated is not null)
                ArrayPool<byte>.Shared.Return(inflated);
        }
    }

    private void Dispatch(in PacketHeader header, ReadOnlySpan<byte> data, bool encrypted)
    {
        switch (header.Type)
        {
            case PacketType.Default:
                Statistics.MessagesReceived++;
                OnMessage(data, header.Flags | (encrypted ? PacketFlags.Encrypted : 0));
                break;
            case PacketType.Ack:
                OnAck(header.AckId, header.AckBits);
                break;
            case PacketType.Heartbeat when header.Beat == HeartbeatKind.Ping:
                var pong = PacketHeader.Create(PacketType.Heartbeat, PacketFlags.None, 0);
                pong.Beat = HeartbeatKind.Pong;
                QueueControl(pong, default);
                break;
            case PacketType.Error:
                var text = Encoding.UTF8.GetString(data[..Math.Min(data.Length, ProtocolConstants.MaxErrorTextSize)]);
                if (header.Error.Major == ErrorMajor.Disconnect)
                    Close(header.Error.Disconnect, notifyPeer: false, text);
                else
                    OnError(header.Error, text);
                break;
        }
    }

    /// <summary>Marks acknowledged messages and samples the RTT from those sent once (Karn).</summary>
    protected void OnAck(ushort ackId, ushort ackBits)
    {
        var now = Clock.NowMilliseconds;
        lock (_sendLock)
        {
            Acked(ackId, now);
            for (var i = 0; ackBits != 0; i++, ackBits >>= 1)
            {
                if ((ackBits & 1) != 0)
                    Acked((ushort)(ackId - 1 - i), now);
            }
            if (_backlog.Count == 0)
                return;
            LaunchWaiting();
        }
        RequestFlush();
    }

    // Under _sendLock. An ACK for a sequence never sent (or already acknowledged) finds nothing.
    private void Acked(ushort sequence, long now)
    {
        if (!_inFlight.TryGetValue(sequence, out var message) || !message.IsOut)
            return;
        _inFlight.Remove(sequence);
        Land(message);
        if (message.Retries == 0)
        {
            _rtt.Add(Clock.MillisecondsSince(message.FirstSentTimestamp));
            Statistics.SetRoundTripTime(_rtt.SmoothedMs);
        }
        _window = Math.Min(MaxWindow, _window + (_window < _slowStartThreshold ? message.PacketCount : message.PacketCount / _window));
        OnAcknowledged(sequence);
        message.Reset();
        _spareMessages.Push(message);
    }

    /// <summary>Hook for a RELIABLE message of ours being acknowledged (the handshake watches its Finished).</summary>
    protected virtual void OnAcknowledged(ushort sequence)
    {
    }


    /// <summary>Answers a malformed packet with a PACKET error, at most 10 per second (protocol §3.3).</summary>
    private void ReportPacketError(PacketError error)
    {
        if (!IsEncrypted && Policy == EncryptionPolicy.Required)
            return;
        var now = Clock.NowMilliseconds;
        if (now - _errorWindowStartMs >= 1000)
        {
            _errorWindowStartMs = now;
            _errorsInWindow = 0;
        }
        if (++_errorsInWindow > MaxPacketErrorsPerSecond)
            return;
        var header = PacketHeader.Create(PacketType.Error, PacketFlags.None, 0);
        header.Error = ErrorCode.Of(error);
        QueueControl(header, default);
    }

    protected abstract void OnMessage(ReadOnlySpan<byte> data, PacketFlags flags);

    protected abstract void OnError(ErrorCode code, string text);

    protected abstract void OnClosed(DisconnectReason reason, string? text);

    // ---------------------------------------------------------------- timers and closing

    /// <summary>Retransmissions, heartbeats and timeouts. Timer thread.</summary>
    public void OnTick(long now)
    {
        if (IsClosed)
            return;
        var silentFor = now - Volatile.Read(ref _lastReceivedMs);
        if (silentFor >= (long)Options.HeartbeatTimeout.TotalMilliseconds)
        {
            Close(DisconnectReason.Timeout, notifyPeer: true, "heartbeat timeout");
            return;
        }
        if (silentFor >= (long)Options.HeartbeatInterval.TotalMilliseconds && now - _lastPingMs >= (long)Math.Min(Options.HeartbeatRetryInterval.TotalMilliseconds, Options.HeartbeatInterval.TotalMilliseconds) && IsEncrypted)
        {
            _lastPingMs = now;
            QueueControl(PacketHeader.Create(PacketType.Heartbeat, PacketFlags.None, 0), default);
        }

        // Most sessions of a busy server have nothing in flight at a given tick: an unlocked look
        // (at worst one tick stale) spares them the locks.
        if (_inFlight.Count > 0)
            Retransmit(now);
        if (_reassembly.PartialCount > 0)
        {
            lock (_reassemblyLock)
                _reassembly.Expire(now - (long)Options.ReassemblyTimeout.TotalMilliseconds);
        }
    }

    // Timer thread.
    private void Retransmit(long now)
    {
        var expired = false;
        var queued = false;
        lock (_sendLock)
        {
            // Retransmissions are paced to one window per smoothed RTT: whole fragmented messages
            // resent at once would otherwise swamp a congested path and keep it congested. But
            // never slower than everything in flight once per maximum backoff: data launched
            // under a large window must still get its retries before the reliable timeout when
            // the window has since collapsed. A due message left out stays due and goes first on
            // a later tick, as the others are no longer due.
            var elapsed = now - _lastRetransmitMs;
            _lastRetransmitMs = now;
            var packetsPerMs = Math.Max(_window / Math.Max(_rtt.SmoothedMs, 1), _inFlightPackets / Options.MaxRetransmissionTimeout.TotalMilliseconds);
            _retransmitCredit = Math.Min(_window, _retransmitCredit + (packetsPerMs * elapsed));
            foreach (var message in _inFlight.Values)
            {
                if (message.IsOut && now - message.FirstSentMs >= (long)Options.ReliableTimeout.TotalMilliseconds)
                {
                    expired = true;
                    break;
                }
                if (message.IsOut && _retransmitCredit > 0 && now - message.LastSentMs >= (long)_rtt.BackoffMs(message.Retries))
                {
                    message.QueueInto(_queued);
                    message.Retries++;
                    _retransmitCredit -= message.PacketCount;
                    _awaitingFlush.Add(message);
                    Statistics.Retransmissions++;
                    queued = true;
                }
            }
            if (queued && now - _lastWindowCutMs >= (long)_rtt.TimeoutMs)
            {
                _lastWindowCutMs = now;
                _slowStartThreshold = Math.Max(MinWindow, _window / 2);
                _window = _slowStartThreshold;
            }
        }
        if (expired)
        {
            Close(DisconnectReason.Timeout, notifyPeer: true, "a reliable message was never acknowledged");
            return;
        }
        if (queued)
            RequestFlush();
    }

    /// <summary>
    /// Ends the session once: tells the peer (DISCONNECT three times, unreliable, sealed when keys
    /// exist) when asked, frees its state and reports it.
    /// </summary>
    public void Close(DisconnectReason reason, bool notifyPeer, string? text = null)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
            return;
        if (notifyPeer)
            SendDisconnect(reason);
        lock (_flushLock)
        {
            lock (_sendLock)
            {
                foreach (var message in _inFlight.Values)
                    message.Reset();
                _inFlight.Clear();
                _inFlightPackets = 0;
                _fragmentedInFlight = 0;
                _fragmentedBytesInFlight = 0;
                _awaitingFlush.Clear();
                foreach (var message in _backlog)
                    message.Reset();
                _backlog.Clear();
                _queued.Clear();
            }
            _sender?.Dispose();
            _receiver?.Dispose();
        }
        lock (_reassemblyLock)
            _reassembly.Dispose();
        OnClosed(reason, text);
    }

    private void SendDisconnect(DisconnectReason reason)
    {
        var sequence = NextSequence();
        Span<byte> datagram = stackalloc byte[DisconnectSize];
        lock (_flushLock)
        {
            for (var i = 0; i < DisconnectRepeats; i++)
                SendDatagram(datagram[..WriteDisconnect(datagram, reason, sequence, _sender, _sender is null ? 0 : _nextPacketNumber++)]);
        }
    }

    /// <summary>Room for a DISCONNECT datagram, sealed or not.</summary>
    public const int DisconnectSize = 32;

    /// <summary>Writes an ERROR DISCONNECT / <paramref name="reason"/> datagram, sealed when a sender is given.</summary>
    public static int WriteDisconnect(Span<byte> datagram, DisconnectReason reason, ushort sequence, PacketProtection? sender, ulong packetNumber)
    {
        var header = PacketHeader.Create(PacketType.Error, sender is null ? PacketFlags.None : PacketFlags.Encrypted, sequence);
        header.Error = ErrorCode.Of(reason);
        header.PacketNumber = packetNumber;
        var length = PacketWriter.WriteHeader(datagram, header);
        return sender is null ? length : sender.Seal(datagram, length, 0, packetNumber);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checksum mismatch in message {Sequence} from {EndPoint}: dropped (a reliable one is resent)")]
    private static partial void LogChecksumMismatch(ILogger logger, IPEndPoint endPoint, ushort sequence);
}
