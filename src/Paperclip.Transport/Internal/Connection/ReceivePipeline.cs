using System.Buffers;
using Paperclip.Protocol;
using Paperclip.Protocol.Crypto;

namespace Paperclip.Transport.Internal.Connection;

/// <summary>What the receive pipeline hands the session.</summary>
internal interface IReceiveHandler
{
    bool IsClosed { get; }

    /// <summary>True once the session has keys (and so drops plaintext under the required policy).</summary>
    bool IsEncrypted { get; }

    /// <summary>A plaintext AUTH, ACK or ERROR that may belong to the handshake; true when handled as such.</summary>
    bool OnPlaintextHandshake(ReadOnlySpan<byte> datagram, in PacketHeader header);

    /// <summary>True when the RELIABLE id was received before.</summary>
    bool WasReceived(ushort sequence);

    /// <summary>Records a RELIABLE id and owes its ACK (again, for a duplicate); false for an id received before.</summary>
    bool Acknowledge(ushort sequence);

    void OnMessage(ReadOnlySpan<byte> data, in MessageInfo info);

    void OnAck(ushort ackId, ushort ackBits);

    void OnPing();

    void OnErrorPacket(ErrorCode code, ReadOnlySpan<byte> text);

    /// <summary>A packet of ours did not parse or check out: answer with a PACKET error (rate-limited).</summary>
    void ReportPacketError(PacketError error);

    void OnChecksumMismatch(ushort sequence);
}

/// <summary>
/// One datagram from the peer to its messages (protocol §3.3 steps 2–9): open (AEAD) → replay →
/// BATCH split → reassemble → inflate → checksum → channel stream → exactly-once → deliver.
/// </summary>
internal sealed class ReceivePipeline(TransportSettings settings, ConnectionStatistics statistics, ReassemblyBudget? budget, ReassemblyBudget? heldBudget) : IDisposable
{
    // While partial messages wait, they are checked for expiry this often (not per fragment).
    private const long ExpiryCheckMs = 1000;
    private readonly ReplayWindow _replay = new();
    private readonly ReassemblyBuffer _reassembly = new(settings.MaxPartialMessages, settings.MaxPartialBytes, settings.MaxMessageSize, budget);
    private readonly ReceiveStreams _streams = new(settings.MaxHeldMessages, settings.MaxHeldBytes, heldBudget, settings.ReliableTimeoutMs);
    private PacketProtection? _receiver;
    private int _version = ProtocolConstants.Version1;
    private long _lastExpiryMs;

    /// <summary>The partial messages (tests look at them).</summary>
    internal ReassemblyBuffer Reassembly => _reassembly;

    /// <summary>The channel streams (tests look at them).</summary>
    internal ReceiveStreams Streams => _streams;

    /// <summary>When partial messages next need an expiry check, or a stream's held messages time out.</summary>
    public long Deadline => Math.Min(_reassembly.PartialCount > 0 ? _lastExpiryMs + ExpiryCheckMs : long.MaxValue, _streams.Deadline);

    public void Activate(PacketProtection receiver, int version)
    {
        _receiver = receiver;
        _version = version;
    }

    /// <summary>Handles one datagram whose header parsed. False when it was not admitted (nothing in it counts as heard from the peer).</summary>
    public bool Receive(Span<byte> datagram, in PacketHeader header, long now, IReceiveHandler handler)
    {
        var data = datagram[header.Length..];
        var encrypted = (header.Flags & PacketFlags.Encrypted) != 0;
        if (encrypted)
        {
            if (_receiver is null)
                return Drop(DropReason.NotAdmitted);
            if (!_replay.IsFresh(header.PacketNumber))
                return Drop(DropReason.Replay);
            if (!_receiver.TryOpen(datagram, header.Length, header.PacketNumber, out var plaintextLength))
                return Drop(DropReason.Authentication);
            _replay.Record(header.PacketNumber);
            data = datagram.Slice(header.Length, plaintextLength);
        }
        else
        {
            // Handshake packets stay plaintext after the handshake (protocol §5.4); anything else
            // in plaintext is admitted only under the optional policy.
            if (header.Type is PacketType.Auth or PacketType.Ack or PacketType.Error && handler.OnPlaintextHandshake(datagram, header))
                return false;
            if (header.Type == PacketType.Auth || (settings.EncryptionPolicy == EncryptionPolicy.Required && handler.IsEncrypted))
                return Drop(DropReason.NotAdmitted);
        }

        if (header.Type != PacketType.Batch)
        {
            ProcessPacket(header, data, encrypted, now, handler);
            return true;
        }
        var batch = new BatchReader(data);
        while (batch.TryReadNext(out var inner))
        {
            if (PacketReader.TryRead(inner, _version, out var innerHeader, out var error))
            {
                ProcessPacket(innerHeader, inner[innerHeader.Length..], encrypted, now, handler);
            }
            else
            {
                statistics.Drop(DropReason.Malformed);
                handler.ReportPacketError(error);
            }
            if (handler.IsClosed)
                return true;
        }
        if (batch.IsMalformed)
        {
            statistics.Drop(DropReason.Malformed);
            handler.ReportPacketError(PacketError.Batch);
        }
        return true;
    }

    /// <summary>
    /// Drops partial messages that gained no fragment within the reassembly timeout. False when a
    /// channel stream held messages for the reliable timeout: the session must end.
    /// </summary>
    public bool Expire(long now)
    {
        if (_reassembly.PartialCount > 0 && now >= _lastExpiryMs + ExpiryCheckMs)
        {
            _lastExpiryMs = now;
            _reassembly.Expire(now - settings.ReassemblyTimeoutMs);
        }
        return _streams.Check(now);
    }

    public void Dispose()
    {
        _receiver?.Dispose();
        _reassembly.Dispose();
        _streams.Dispose();
    }

    private bool Drop(DropReason reason)
    {
        statistics.Drop(reason);
        return false;
    }

    private void ProcessPacket(in PacketHeader header, ReadOnlySpan<byte> data, bool encrypted, long now, IReceiveHandler handler)
    {
        var flags = header.Flags;
        if (header.Type == PacketType.Channel && !encrypted)
        {
            statistics.Drop(DropReason.NotAdmitted); // always sealed, whatever the policy (§2.2)
            return;
        }
        PooledBuffer reassembled = default;
        byte[]? inflated = null;
        try
        {
            if ((flags & PacketFlags.Frag) != 0)
            {
                // A fragment of a RELIABLE message delivered before means our ACK was lost: ACK it
                // again rather than hold a partial set that would never be delivered.
                if ((flags & PacketFlags.Reliable) != 0 && handler.WasReceived(header.Sequence))
                {
                    handler.Acknowledge(header.Sequence);
                    statistics.Drop(DropReason.Duplicate);
                    return;
                }
                if (_reassembly.PartialCount == 0)
                    _lastExpiryMs = now;
                var status = _reassembly.Add(header, data, now, out reassembled);
                if (status != ReassemblyStatus.Complete)
                {
                    if (status is ReassemblyStatus.Discarded or ReassemblyStatus.TooLarge)
                        statistics.Drop(DropReason.Reassembly);
                    return;
                }
                data = reassembled.Span;
            }
            if ((flags & PacketFlags.Compressed) != 0)
            {
                inflated = ArrayPool<byte>.Shared.Rent(settings.MaxMessageSize);
                if (!Deflate.TryInflate(data, inflated.AsSpan(0, settings.MaxMessageSize), out var written))
                {
                    statistics.Drop(DropReason.Decompression);
                    handler.ReportPacketError(PacketError.Data);
                    return;
                }
                data = inflated.AsSpan(0, written);
            }
            if ((flags & PacketFlags.Checksum) != 0 && Checksum.Compute(data) != header.Checksum)
            {
                statistics.Drop(DropReason.Checksum);
                handler.OnChecksumMismatch(header.Sequence);
                handler.ReportPacketError(PacketError.Checksum);
                return;
            }
            if (header.Type == PacketType.Channel)
            {
                OnChannelMessage(header, data, encrypted, now, handler);
                return;
            }
            if ((flags & PacketFlags.Reliable) != 0 && !handler.Acknowledge(header.Sequence))
            {
                statistics.Drop(DropReason.Duplicate);
                return;
            }
            Dispatch(header, data, encrypted, handler);
        }
        finally
        {
            reassembled.Dispose();
            if (inflated is not null)
                ArrayPool<byte>.Shared.Return(inflated);
        }
    }

    // §3.3 steps 7–9 for a whole CHANNEL message: the stream decides, then RELIABLE acknowledges
    // what was delivered, held or seen before — not what was refused or outside the window.
    private void OnChannelMessage(in PacketHeader header, ReadOnlySpan<byte> data, bool encrypted, long now, IReceiveHandler handler)
    {
        var reliable = (header.Flags & PacketFlags.Reliable) != 0;
        switch (_streams.Classify(header, data.Length))
        {
            case StreamOutcome.OutOfWindow:
                statistics.Drop(DropReason.Malformed);
                handler.ReportPacketError(PacketError.Channel);
                return;
            case StreamOutcome.Refused:
                statistics.Drop(DropReason.Refused);
                return;
            case StreamOutcome.Duplicate:
                if (reliable)
                    handler.Acknowledge(header.Sequence);
                statistics.Drop(DropReason.Duplicate);
                return;
            case StreamOutcome.Hold:
                if (!_streams.TryHold(header, data, MessageInfo.Of(header, encrypted), now))
                {
                    statistics.Drop(DropReason.Refused);
                    return;
                }
                handler.Acknowledge(header.Sequence);
                return;
        }
        if (reliable && !handler.Acknowledge(header.Sequence))
        {
            statistics.Drop(DropReason.Duplicate);
            return;
        }
        handler.OnMessage(data, MessageInfo.Of(header, encrypted));
        if (!handler.IsClosed)
            _streams.Delivered(header, handler);
    }

    private static void Dispatch(in PacketHeader header, ReadOnlySpan<byte> data, bool encrypted, IReceiveHandler handler)
    {
        switch (header.Type)
        {
            case PacketType.Default:
                handler.OnMessage(data, MessageInfo.Of(header, encrypted));
                break;
            case PacketType.Ack:
                handler.OnAck(header.AckId, header.AckBits);
                break;
            case PacketType.Heartbeat when header.Beat == HeartbeatKind.Ping:
                handler.OnPing();
                break;
            case PacketType.Error:
                handler.OnErrorPacket(header.Error, data[..Math.Min(data.Length, ProtocolConstants.MaxErrorTextSize)]);
                break;
        }
    }
}
