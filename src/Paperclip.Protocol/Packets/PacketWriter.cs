namespace Paperclip.Protocol;

/// <summary>Writes headers (protocol §1–§2). DATA and, when sealing, the tag follow the header.</summary>
public static class PacketWriter
{
    /// <summary>
    /// Bytes the header of a non-AUTH packet takes: TF, SEQ, the optional fields of its flags and
    /// its type fields.
    /// </summary>
    public static int HeaderLength(PacketType type, PacketFlags flags)
    {
        var length = ProtocolConstants.FixedHeaderSize;
        if ((flags & PacketFlags.Frag) != 0)
            length += 2;
        if ((flags & PacketFlags.Encrypted) != 0)
            length += ProtocolConstants.PacketNumberSize;
        if ((flags & PacketFlags.Checksum) != 0)
            length += 4;
        return length + type switch
        {
            PacketType.Ack => 4,
            PacketType.Heartbeat => 1,
            PacketType.Error => 2,
            PacketType.Channel => 3,
            _ => 0,
        };
    }

    /// <summary>
    /// Writes the header of a non-AUTH packet and returns its length. For ENCRYPTED the PN is
    /// written from <see cref="PacketHeader.PacketNumber"/>; sealing fills DATA and the tag.
    /// </summary>
    public static int WriteHeader(Span<byte> destination, in PacketHeader header)
    {
        if (header.Type == PacketType.Auth)
            throw new ArgumentException("AUTH headers are written with WriteAuthHeader.", nameof(header));

        var writer = new SpanWriter(destination);
        writer.WriteByte(header.TypeAndFlags);
        writer.WriteUInt16(header.Type == PacketType.Batch ? (ushort)0 : header.Sequence);
        WriteOptionalFields(ref writer, header);
        switch (header.Type)
        {
            case PacketType.Ack:
                writer.WriteUInt16(header.AckId);
                writer.WriteUInt16(header.AckBits);
                break;
            case PacketType.Heartbeat:
                writer.WriteByte((byte)header.Beat);
                break;
            case PacketType.Error:
                writer.WriteByte((byte)header.Error.Major);
                writer.WriteByte(header.Error.Minor);
                break;
            case PacketType.Channel:
                if (header.Channel >= ProtocolConstants.ChannelCount)
                    throw new ArgumentException("A channel is 0–63.", nameof(header));
                writer.WriteByte(header.Lane);
                writer.WriteUInt16(header.ChannelSequence);
                break;
        }
        return writer.Position;
    }

    /// <summary>Bytes the header of an AUTH packet takes.</summary>
    public static int AuthHeaderLength(int certificateLength, int keyLength, int signatureLength) =>
        ProtocolConstants.FixedHeaderSize + 1 + 2 + certificateLength + 2 + keyLength + 2 + signatureLength;

    /// <summary>Writes a version-1 AUTH header and returns its length.</summary>
    public static int WriteAuthHeader(Span<byte> destination, PacketFlags flags, ushort sequence,
        ReadOnlySpan<byte> certificate, ReadOnlySpan<byte> key, ReadOnlySpan<byte> signature) =>
        WriteAuthHeader(destination, flags, sequence, ProtocolConstants.Version1, certificate, key, signature);

    /// <summary>Writes an AUTH header of <paramref name="version"/> (1 and 2 share the layout) and returns its length.</summary>
    public static int WriteAuthHeader(Span<byte> destination, PacketFlags flags, ushort sequence, byte version,
        ReadOnlySpan<byte> certificate, ReadOnlySpan<byte> key, ReadOnlySpan<byte> signature)
    {
        if ((flags & ~PacketRules.AllowedFlags(PacketType.Auth)) != 0)
            throw new ArgumentException("AUTH carries no flag but RELIABLE.", nameof(flags));
        var writer = new SpanWriter(destination);
        writer.WriteByte(PacketRules.ToTypeAndFlags(PacketType.Auth, flags));
        writer.WriteUInt16(sequence);
        writer.WriteByte(version);
        WriteBlock(ref writer, certificate);
        WriteBlock(ref writer, key);
        WriteBlock(ref writer, signature);
        return writer.Position;
    }

    private static void WriteOptionalFields(ref SpanWriter writer, in PacketHeader header)
    {
        if (header.Has(PacketFlags.Frag))
        {
            writer.WriteByte(header.FragmentId);
            writer.WriteByte(header.FragmentCount);
        }
        if (header.Has(PacketFlags.Encrypted))
            writer.WriteUInt64(header.PacketNumber);
        if (header.Has(PacketFlags.Checksum))
            writer.WriteUInt32(header.Checksum);
    }

    private static void WriteBlock(ref SpanWriter writer, ReadOnlySpan<byte> block)
    {
        if (block.Length > ushort.MaxValue)
            throw new ArgumentException("An AUTH field is longer than 65535 bytes.", nameof(block));
        writer.WriteUInt16((ushort)block.Length);
        writer.Write(block);
    }
}
