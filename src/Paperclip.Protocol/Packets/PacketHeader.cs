namespace Paperclip.Protocol;

/// <summary>
/// Every field before DATA (protocol §1–§2): the fixed part, the optional fields of the flags and
/// the type-specific fields. Fields that the type or flags do not carry are zero.
/// For AUTH the variable fields are ranges into the datagram, so nothing is copied.
/// </summary>
public struct PacketHeader
{
    /// <summary>The packet type.</summary>
    public PacketType Type { get; set; }

    /// <summary>The flags.</summary>
    public PacketFlags Flags { get; set; }

    /// <summary>The sequence id (0 and ignored for BATCH).</summary>
    public ushort Sequence { get; set; }

    /// <summary>FRAG: index of this fragment.</summary>
    public byte FragmentId { get; set; }

    /// <summary>FRAG: number of fragments of the message.</summary>
    public byte FragmentCount { get; set; }

    /// <summary>ENCRYPTED: the packet number.</summary>
    public ulong PacketNumber { get; set; }

    /// <summary>CHECKSUM: CRC-32 of the message's original data.</summary>
    public uint Checksum { get; set; }

    /// <summary>ACK: the acknowledged sequence id.</summary>
    public ushort AckId { get; set; }

    /// <summary>ACK: bit i acknowledges ACK_ID − 1 − i.</summary>
    public ushort AckBits { get; set; }

    /// <summary>HEARTBEAT: PING or PONG.</summary>
    public HeartbeatKind Beat { get; set; }

    /// <summary>ERROR: the major and minor, as read (unknown values read as ERROR / UNKNOWN).</summary>
    public ErrorCode Error { get; set; }

    /// <summary>CHANNEL: the channel, 0–63 (LANE bits 5..0).</summary>
    public byte Channel { get; set; }

    /// <summary>CHANNEL: SEQUENCED (LANE bit 7): only newer messages are delivered; clear for an ordered stream.</summary>
    public bool Sequenced { get; set; }

    /// <summary>CHANNEL: CSEQ, the message's number on its stream.</summary>
    public ushort ChannelSequence { get; set; }

    /// <summary>CHANNEL: the LANE byte.</summary>
    public readonly byte Lane => (byte)((Sequenced ? ChannelLane.SequencedBit : 0) | Channel);

    /// <summary>AUTH: the protocol version. Fields after it are only parsed for versions 1 and 2, which share them.</summary>
    public byte Version { get; set; }

    /// <summary>AUTH: where the certificate (DER) lies in the datagram.</summary>
    public Range Certificate { get; set; }

    /// <summary>AUTH: where the ephemeral public key (SubjectPublicKeyInfo DER) lies in the datagram.</summary>
    public Range Key { get; set; }

    /// <summary>AUTH: where the signature lies in the datagram.</summary>
    public Range Signature { get; set; }

    /// <summary>Bytes of the header; DATA starts here. Set by the reader; the writer computes it.</summary>
    public int Length { get; set; }

    /// <summary>The TF byte.</summary>
    public readonly byte TypeAndFlags => PacketRules.ToTypeAndFlags(Type, Flags);

    /// <summary>True when every flag in <paramref name="flags"/> is set.</summary>
    public readonly bool Has(PacketFlags flags) => (Flags & flags) == flags;

    /// <summary>A header of the given type, flags and sequence id.</summary>
    public static PacketHeader Create(PacketType type, PacketFlags flags, ushort sequence) =>
        new() { Type = type, Flags = flags, Sequence = sequence };
}

/// <summary>The LANE byte of a CHANNEL packet (protocol §2.2).</summary>
public static class ChannelLane
{
    /// <summary>Bit 7: SEQUENCED.</summary>
    public const byte SequencedBit = 0x80;

    /// <summary>Bit 6: reserved, always 0.</summary>
    public const byte ReservedBit = 0x40;

    /// <summary>Bits 5..0: the channel.</summary>
    public const byte ChannelMask = 0x3F;
}
