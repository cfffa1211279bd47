using System.Net;
using System.Text;
using System.Text.Unicode;
using Microsoft.Extensions.Logging;
using Paperclip.Protocol;
using Paperclip.Protocol.Crypto;
using Paperclip.Transport.Internal.Connection.Congestion;
using Paperclip.Transport.Internal.Io;

namespace Paperclip.Transport.Internal.Connection;

/// <summary>
/// One peer's connected state, shared by client and server (protocol §3–§4, §6.3–§7), without
/// sockets or threads of its own: it is driven by <see cref="Receive"/> (a datagram and now),
/// <see cref="OnTimer"/> at its <see cref="Deadline"/>, and sends what it queued when
/// <see cref="Flush"/> is called. Single-threaded: whoever drives it (an I/O loop, or a test)
/// calls it from one thread at a time. The parts: <see cref="SentMessages"/> (reliability and
/// congestion), <see cref="AckState"/>, <see cref="ReceivePipeline"/>, <see cref="KeepAlive"/>,
/// <see cref="Framer"/> (batching and sealing).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Close() releases the session's buffers and keys; a session ends by closing, not by disposal.")]
internal abstract partial class SessionCore : IReceiveHandler
{
    private const int MaxPacketErrorsPerSecond = 10;

    private readonly IDatagramSink _sink;
    private readonly ILogger _logger;
    private readonly SequenceCounter _sequences = new();
    private readonly OutgoingPackets _outgoing = new();
    private readonly SentMessages _sent;
    private readonly AckState _acks = new();
    private readonly ReceivePipeline _receive;
    private readonly KeepAlive _keepAlive;
    private readonly Framer _framer;
    private long _errorWindowStartMs;
    private int _errorsInWindow;
    private bool _outputPending;
    // Send-buffer bytes and messages released since the owner was last told: told once per ACK or
    // flush, not per message (the owner's counters are shared with application threads).
    private long _releasedBytes;
    private int _releasedMessages;
    private long _lastNowMs;
    private int _closed;

    protected SessionCore(TransportSettings settings, IDatagramSink sink, SocketAddress remote, long now, ReassemblyBudget? budget, ReassemblyBudget? heldBudget, ILogger logger)
    {
        Settings = settings;
        _sink = sink;
        _logger = logger;
        Remote = remote;
        RemoteEndPoint = remote.ToIPEndPoint();
        _sent = new SentMessages(settings, _sequences, new WindowCongestion(settings.MaxDatagramSize))
        {
            Acknowledged = (sequence, bufferedBytes) =>
            {
                if (bufferedBytes >= 0)
                    Release(bufferedBytes);
                OnAcknowledged(sequence);
            },
        };
        _receive = new ReceivePipeline(settings, Statistics, budget, heldBudget);
        _keepAlive = new KeepAlive(settings.HeartbeatIntervalMs, settings.HeartbeatRetryMs, settings.HeartbeatTimeoutMs, now);
        _framer = new Framer(settings.MaxDatagramSize);
    }

    public TransportSettings Settings { get; }

    public SocketAddress Remote { get; }

    public IPEndPoint RemoteEndPoint { get; }

    /// <summary>Counters; written only by this core (its driving thread), read from anywhere.</summary>
    public ConnectionStatistics Statistics { get; } = new();

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    public bool IsEncrypted => _framer.CanSeal;

    /// <summary>The protocol version the handshake agreed on (1 until <see cref="Activate"/>).</summary>
    public int Version { get; private set; } = ProtocolConstants.Version1;

    /// <summary>The reliability state, for tests and statistics.</summary>
    internal SentMessages Sent => _sent;

    /// <summary>The receive side, for tests.</summary>
    internal ReceivePipeline ReceivePipeline => _receive;

    /// <summary>When <see cref="OnTimer"/> has something to do; <see cref="long.MaxValue"/> for nothing.</summary>
    public long Deadline =>
        IsClosed ? long.MaxValue : Math.Min(_keepAlive.Deadline(IsEncrypted), Math.Min(_sent.Deadline, _receive.Deadline));

    /// <summary>True when datagrams wait for <see cref="Flush"/>.</summary>
    public bool HasOutput => _outgoing.Count > 0 || _acks.IsPending;

    /// <summary>Takes the next sequence id (handshake messages use it too).</summary>
    public ushort NextSequence() => _sequences.Take();

    /// <summary>Makes <paramref name="next"/> the next sequence id (a session continues the handshake's numbering).</summary>
    public void ContinueSequenceAt(ushort next) => _sequences.Next = next;

    /// <summary>Installs the keys and version of a completed handshake: from now on packets are sealed and opened.</summary>
    public void Activate(SessionKeys keys, bool isClient, int version, long now)
    {
        Version = version;
        _framer.Activate(keys.CreateSender(isClient));
        _receive.Activate(keys.CreateReceiver(isClient), version);
        _keepAlive.OnReceived(now);
    }

    // ---------------------------------------------------------------- sending

    /// <summary>Queues an application message (protocol §3.2), prepared by <see cref="OutgoingMessage.Prepare"/>.</summary>
    public void Send(in OutgoingMessage message)
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        var framing = message.Sealed ? Framing.Sealed : Framing.Plain;
        if (message.Sealed && !IsEncrypted)
            throw new InvalidOperationException("The session has no keys yet.");
        var header = message.Header;
        if (header.Type == PacketType.Channel)
        {
            if (Version < ProtocolConstants.Version2)
                throw new InvalidOperationException("Channel deliveries need protocol version 2; this session runs version 1.");
            _sent.Streams.Number(ref header);
        }
        var chunkCapacity = 0;
        if ((header.Flags & PacketFlags.Frag) != 0)
            chunkCapacity = OutgoingMessage.ChunkCapacity(Settings.MaxDatagramSize, header, message.Sealed);
        if ((header.Flags & PacketFlags.Reliable) != 0)
        {
            var sent = _sent.Rent();
            sent.Start(header, message.Data, chunkCapacity, framing);
            _sent.Launch(sent, _outgoing);
        }
        else
        {
            if (!_sent.CanTakeSequence)
            {
                DropUnsent(message);
                return;
            }
            header.Sequence = _sequences.Take();
            Release(message.Data.Length);
            if ((header.Flags & PacketFlags.Frag) == 0)
            {
                _outgoing.Add(header, message.Data, framing);
            }
            else
            {
                for (var i = 0; i < header.FragmentCount; i++)
                {
                    header.FragmentId = (byte)i;
                    _outgoing.Add(header, Fragmenter.Chunk(message.Data, i, chunkCapacity), framing);
                }
            }
        }
        Statistics.MessagesSent++;
        OutputQueued();
    }

    /// <summary>Drops an unreliable message that will not be sent (too old, or no SEQ free), counting it.</summary>
    public void DropUnsent(in OutgoingMessage message)
    {
        Statistics.UnreliableDropped++;
        OnSendBufferReleased(message.Data.Length, 1);
    }

    /// <summary>Hook: application messages left the send buffer (sent unreliable, acknowledged, or dropped).</summary>
    protected virtual void OnSendBufferReleased(long bytes, int messages)
    {
    }

    private void Release(int bytes)
    {
        _releasedBytes += bytes;
        _releasedMessages++;
    }

    private void PublishReleased()
    {
        if (_releasedMessages == 0)
            return;
        OnSendBufferReleased(_releasedBytes, _releasedMessages);
        _releasedBytes = 0;
        _releasedMessages = 0;
    }

    /// <summary>Queues an ERROR with a UTF-8 explanation cut to 256 bytes (on a character boundary).</summary>
    public void SendError(ErrorCode code, string message)
    {
        if (code.Major == ErrorMajor.Disconnect)
            throw new ArgumentException("End a session with Close, not with a DISCONNECT error.", nameof(code));
        ObjectDisposedException.ThrowIf(IsClosed, this);
        Span<byte> text = stackalloc byte[ProtocolConstants.MaxErrorTextSize];
        Utf8.FromUtf16(message, text, out _, out var written, replaceInvalidSequences: true, isFinalBlock: false);
        if (!TryTakeControlSequence(out var sequence))
            return;
        var header = PacketHeader.Create(PacketType.Error, PacketFlags.None, sequence);
        header.Error = code;
        QueueControl(header, text[..written]);
    }

    /// <summary>Queues a handshake packet that travels alone, RELIABLE and in plaintext (the client's Finished).</summary>
    protected void QueueHandshakePacket(PacketHeader header, ReadOnlySpan<byte> data)
    {
        var message = _sent.Rent();
        message.Start(header, data, 0, Framing.Plain | Framing.Alone);
        _sent.Launch(message, _outgoing, header.Sequence);
        OutputQueued();
    }

    /// <summary>Sends a datagram now, bypassing the queue (handshake repeats).</summary>
    protected void SendNow(ReadOnlySpan<byte> datagram)
    {
        Statistics.DatagramsSent++;
        Statistics.BytesSent += datagram.Length;
        _sink.Send(datagram, Remote);
    }

    /// <summary>Sends what is queued, coalescing small packets into BATCH datagrams (protocol §2.1).</summary>
    public void Flush(long now, long timestamp)
    {
        _outputPending = false;
        PublishReleased();
        if (IsClosed)
            return;
        if (_acks.TryTake(out var ackId, out var ackBits))
            QueueAck(ackId, ackBits);
        if (_outgoing.Count == 0)
            return;
        var sent = _framer.Flush(_outgoing, _sink, Remote, Statistics);
        _outgoing.Clear();
        _sent.OnFlushed(now, timestamp);
        if (!sent)
            Close(DisconnectReason.Disconnect, notifyPeer: true, "packet numbers exhausted");
    }

    /// <summary>Hook: the core has output for <see cref="Flush"/> (called once until the flush).</summary>
    protected abstract void OnOutputPending();

    private void OutputQueued()
    {
        if (_outputPending)
            return;
        _outputPending = true;
        OnOutputPending();
    }

    private void QueueControl(in PacketHeader header, ReadOnlySpan<byte> data)
    {
        _outgoing.Add(header, data, IsEncrypted ? Framing.Sealed : Framing.Plain);
        OutputQueued();
    }

    // Control packets take SEQs too (§3.1): past the SEQ window they are not sent — the peer
    // resends what our ACK would have answered, and a PING or PONG comes again.
    private bool TryTakeControlSequence(out ushort sequence)
    {
        sequence = 0;
        if (!_sent.CanTakeSequence)
            return false;
        sequence = _sequences.Take();
        return true;
    }

    private void QueueAck(ushort ackId, ushort ackBits)
    {
        if (!TryTakeControlSequence(out var sequence))
            return;
        var header = PacketHeader.Create(PacketType.Ack, PacketFlags.None, sequence);
        header.AckId = ackId;
        header.AckBits = ackBits;
        QueueControl(header, default);
    }

    // ---------------------------------------------------------------- receiving

    /// <summary>Handles one datagram from the peer whose header parsed (protocol §3.3 steps 2–8).</summary>
    public void Receive(Span<byte> datagram, in PacketHeader header, long now)
    {
        Statistics.DatagramsReceived++;
        Statistics.BytesReceived += datagram.Length;
        if (IsClosed)
            return;
        _lastNowMs = now;
        if (header.Type == PacketType.Channel && Version < ProtocolConstants.Version2)
        {
            OnMalformed(PacketError.PacketType); // §3.3: CHANNEL is a reserved type in version 1
            return;
        }
        // Heard from the peer: what opened, or any admitted plaintext.
        if (_receive.Receive(datagram, header, now, this))
            _keepAlive.OnReceived(now);
    }

    /// <summary>A parse failure of a datagram from this peer (the endpoint parses first).</summary>
    public void OnMalformed(PacketError error)
    {
        Statistics.Drop(DropReason.Malformed);
        ReportPacketError(error);
    }

    bool IReceiveHandler.WasReceived(ushort sequence) => _acks.Contains(sequence);

    /// <summary>Records a RELIABLE sequence id and owes its ACK, merged with others due (protocol §4).</summary>
    /// <returns>False when the id was delivered before.</returns>
    public bool Acknowledge(ushort sequence)
    {
        var first = _acks.Record(sequence, out var flushed);
        if (flushed is { } ack)
            QueueAck(ack.AckId, ack.AckBits);
        OutputQueued();
        return first;
    }

    void IReceiveHandler.OnMessage(ReadOnlySpan<byte> data, in MessageInfo info)
    {
        Statistics.MessagesReceived++;
        OnMessage(data, info);
    }

    void IReceiveHandler.OnAck(ushort ackId, ushort ackBits)
    {
        var queued = _outgoing.Count;
        _sent.OnAck(ackId, ackBits, _lastNowMs, _outgoing, Statistics);
        PublishReleased();
        if (_sent.Rtt.SmoothedMs > 0)
            Statistics.SetRoundTripTime(_sent.Rtt.SmoothedMs);
        if (_outgoing.Count != queued)
            OutputQueued();
    }

    void IReceiveHandler.OnPing()
    {
        if (!TryTakeControlSequence(out var sequence))
            return;
        var pong = PacketHeader.Create(PacketType.Heartbeat, PacketFlags.None, sequence);
        pong.Beat = HeartbeatKind.Pong;
        QueueControl(pong, default);
    }

    void IReceiveHandler.OnErrorPacket(ErrorCode code, ReadOnlySpan<byte> text)
    {
        var message = Encoding.UTF8.GetString(text);
        if (code.Major == ErrorMajor.Disconnect)
            Close(code.Disconnect, notifyPeer: false, message);
        else
            OnError(code, message);
    }

    void IReceiveHandler.OnChecksumMismatch(ushort sequence) => LogChecksumMismatch(_logger, RemoteEndPoint, sequence);

    /// <summary>Answers a malformed packet with a PACKET error, at most 10 per second (protocol §3.3).</summary>
    public void ReportPacketError(PacketError error)
    {
        if (!IsEncrypted && Settings.EncryptionPolicy == EncryptionPolicy.Required)
            return;
        var now = _lastNowMs;
        if (now - _errorWindowStartMs >= 1000)
        {
            _errorWindowStartMs = now;
            _errorsInWindow = 0;
        }
        if (++_errorsInWindow > MaxPacketErrorsPerSecond)
            return;
        if (!TryTakeControlSequence(out var sequence))
            return;
        var header = PacketHeader.Create(PacketType.Error, PacketFlags.None, sequence);
        header.Error = ErrorCode.Of(error);
        QueueControl(header, default);
    }

    /// <summary>A plaintext AUTH, ACK or ERROR from the peer that may belong to the handshake; true when it was handled as such.</summary>
    public abstract bool OnPlaintextHandshake(ReadOnlySpan<byte> datagram, in PacketHeader header);

    protected abstract void OnMessage(ReadOnlySpan<byte> data, in MessageInfo info);

    protected abstract void OnError(ErrorCode code, string text);

    protected abstract void OnClosed(DisconnectReason reason, string? text);

    /// <summary>Hook for a RELIABLE message of ours being acknowledged (the handshake watches its Finished).</summary>
    protected virtual void OnAcknowledged(ushort sequence)
    {
    }

    // ---------------------------------------------------------------- timers and closing

    /// <summary>Retransmissions, heartbeats, reassembly expiry and timeouts that are due.</summary>
    public void OnTimer(long now)
    {
        if (IsClosed)
            return;
        _lastNowMs = now;
        switch (_keepAlive.Check(now, IsEncrypted))
        {
            case KeepAliveAction.TimedOut:
                Close(DisconnectReason.Timeout, notifyPeer: true, "heartbeat timeout");
                return;
            case KeepAliveAction.Ping when TryTakeControlSequence(out var sequence):
                QueueControl(PacketHeader.Create(PacketType.Heartbeat, PacketFlags.None, sequence), default);
                break;
        }
        if (_sent.Deadline <= now)
        {
            switch (_sent.Retransmit(now, _outgoing, Statistics))
            {
                case RetransmitOutcome.Expired:
                    Close(DisconnectReason.Timeout, notifyPeer: true, "a reliable message was never acknowledged");
                    return;
                case RetransmitOutcome.Queued:
                    OutputQueued();
                    break;
            }
        }
        if (_receive.Deadline <= now && !_receive.Expire(now))
            Close(DisconnectReason.Timeout, notifyPeer: true, "a channel stream waited past the reliable timeout for a message it holds back for");
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
        {
            var sequence = _sequences.Take();
            Span<byte> datagram = stackalloc byte[Framer.DisconnectSize];
            for (var i = 0; i < Framer.DisconnectRepeats; i++)
                SendNow(datagram[.._framer.WriteDisconnect(datagram, reason, sequence)]);
        }
        _sent.Clear();
        _outgoing.Dispose();
        _framer.Dispose();
        _receive.Dispose();
        OnClosed(reason, text);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checksum mismatch in message {Sequence} from {EndPoint}: dropped (a reliable one is resent)")]
    private static partial void LogChecksumMismatch(ILogger logger, IPEndPoint endPoint, ushort sequence);
}
