namespace Paperclip.Protocol;

/// <summary>
/// Parses a datagram's header (protocol §1–§3.3 step 1). Bad input gives false and the PACKET
/// minor of the field that did not fit; no input makes it throw.
/// </summary>
public static class PacketReader
{
    /// <summary>Parses the header of <paramref name="datagram"/> as a version-1 session reads it (CHANNEL is PACKET_TYPE).</summary>
    /// <param name="datagram">The whole datagram.</param>
    /// <param name="header">The parsed header; <see cref="PacketHeader.Length"/> is where DATA starts.</param>
    /// <param name="error">On failure, the PACKET minor to report.</param>
    public static bool TryRead(ReadOnlySpan<byte> datagram, out PacketHeader header, out PacketError error) =>
        TryRead(datagram, ProtocolConstants.Version1, out header, out error);

    /// <summary>Parses the header of <paramref name="datagram"/> as a session of <paramref name="version"/> reads it.</summary>
    /// <param name="datagram">The whole datagram.</param>
    /// <param name="version">The session's protocol version: CHANNEL packets exist from version 2.</param>
    /// <param name="header">The parsed header; <see cref="PacketHeader.Length"/> is where DATA starts.</param>
    /// <param name="error">On failure, the PACKET minor to report.</param>
    public static bool TryRead(ReadOnlySpan<byte> datagram, int version, out PacketHeader header, out PacketError error)
    {
        header = default;
        var reader = new SpanReader(datagram);
        if (!reader.TryReadByte(out var tf) || !reader.TryReadUInt16(out var sequence))
            return Fail(PacketError.Packet, out error);

        var type = PacketRules.TypeOf(tf);
        var flags = PacketRules.FlagsOf(tf);
        // Reserved: type 7 always, CHANNEL before version 2, before any of its fields are read (§3.3).
        if (type > PacketType.Channel || (type == PacketType.Channel && version < ProtocolConstants.Version2))
            return Fail(PacketError.PacketType, out error);
        if ((flags & ~PacketRules.AllowedFlags(type)) != 0)
            return Fail(PacketError.Flags, out error);

        header.Type = type;
        header.Flags = flags;
        header.Sequence = sequence;

        if ((flags & PacketFlags.Frag) != 0)
        {
            if (!reader.TryReadByte(out var id) || !reader.TryReadByte(out var count) || count == 0 || id >= count)
                return Fail(PacketError.Fragment, out error);
            header.FragmentId = id;
            header.FragmentCount = count;
        }
        if ((flags & PacketFlags.Encrypted) != 0)
        {
            if (!reader.TryReadUInt64(out var pn))
                return Fail(PacketError.InitVector, out error);
            header.PacketNumber = pn;
        }
        if ((flags & PacketFlags.Checksum) != 0)
        {
            if (!reader.TryReadUInt32(out var crc))
                return Fail(PacketError.Checksum, out error);
            header.Checksum = crc;
        }

        if (!TryReadTypeFields(ref reader, ref header, out error))
            return false;

        header.Length = reader.Position;
        if ((flags & PacketFlags.Encrypted) != 0 && reader.Remaining < ProtocolConstants.TagSize)
            return Fail(PacketError.Packet, out error);

        error = default;
        return true;
    }

    private static bool TryReadTypeFields(ref SpanReader reader, ref PacketHeader header, out PacketError error)
    {
        switch (header.Type)
        {
            case PacketType.Ack:
                if (!reader.TryReadUInt16(out var ackId) || !reader.TryReadUInt16(out var ackBits))
                    return Fail(PacketError.Ack, out error);
                header.AckId = ackId;
                header.AckBits = ackBits;
                break;
            case PacketType.Heartbeat:
                if (!reader.TryReadByte(out var beat) || beat > (byte)HeartbeatKind.Pong)
                    return Fail(PacketError.Heartbeat, out error);
                header.Beat = (HeartbeatKind)beat;
                break;
            case PacketType.Error:
                if (!reader.TryReadByte(out var major) || !reader.TryReadByte(out var minor))
                    return Fail(PacketError.Error, out error);
                header.Error = ErrorCode.FromWire(major, minor);
                break;
            case PacketType.Channel:
                if (!reader.TryReadByte(out var lane) || !reader.TryReadUInt16(out var channelSequence))
                    return Fail(PacketError.Channel, out error);
                var sequenced = (lane & ChannelLane.SequencedBit) != 0;
                // A reserved bit, or unreliable and unsequenced (that is DEFAULT's delivery).
                if ((lane & ChannelLane.ReservedBit) != 0 || (!sequenced && (header.Flags & PacketFlags.Reliable) == 0))
                    return Fail(PacketError.Channel, out error);
                header.Channel = (byte)(lane & ChannelLane.ChannelMask);
                header.Sequenced = sequenced;
                header.ChannelSequence = channelSequence;
                break;
            case PacketType.Auth:
                if (!reader.TryReadByte(out var authVersion))
                    return Fail(PacketError.Auth, out error);
                header.Version = authVersion;
                // Another version may lay out its fields differently: the caller answers VERSION_UNSUPPORTED.
                if (authVersion is not (ProtocolConstants.Version1 or ProtocolConstants.Version2))
                    break;
                if (!TryReadBlock(ref reader, out var certificate)
                    || !TryReadBlock(ref reader, out var key)
                    || !TryReadBlock(ref reader, out var signature))
                    return Fail(PacketError.Auth, out error);
                header.Certificate = certificate;
                header.Key = key;
                header.Signature = signature;
                break;
        }
        error = default;
        return true;
    }

    private static bool TryReadBlock(ref SpanReader reader, out Range range)
    {
        range = default;
        if (!reader.TryReadUInt16(out var length) || !reader.TrySkip(length, out var start))
            return false;
        range = new Range(start, start + length);
        return true;
    }

    private static bool Fail(PacketError minor, out PacketError error)
    {
        error = minor;
        return false;
    }
}
