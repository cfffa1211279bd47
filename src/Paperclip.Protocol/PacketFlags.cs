namespace Paperclip.Protocol;

/// <summary>Per-packet flags in bits 4..0 of the TF byte (protocol §1.2).</summary>
[Flags]
#pragma warning disable CA1711 // "Flags" is the protocol's own name for these bits.
public enum PacketFlags : byte
#pragma warning restore CA1711
{
    /// <summary>No flag.</summary>
    None = 0,
    /// <summary>The receiver acknowledges; the sender retransmits until it does.</summary>
    Reliable = 0x01,
    /// <summary>The header carries the CRC-32 of the message's original data.</summary>
    Checksum = 0x02,
    /// <summary>DATA is raw DEFLATE.</summary>
    Compressed = 0x04,
    /// <summary>DATA is AES-256-GCM ciphertext; the header carries PN and a tag ends the datagram.</summary>
    Encrypted = 0x08,
    /// <summary>The datagram is one fragment of a larger message.</summary>
    Frag = 0x10,
}

/// <summary>Which flags each packet type may carry (protocol §1.2).</summary>
public static class PacketRules
{
    /// <summary>Every flag bit.</summary>
    public const PacketFlags AllFlags = (PacketFlags)0x1F;

    /// <summary>The flags that <paramref name="type"/> admits.</summary>
    public static PacketFlags AllowedFlags(PacketType type) => type switch
    {
        PacketType.Default or PacketType.Channel => AllFlags,
        PacketType.Ack or PacketType.Heartbeat or PacketType.Error => AllFlags & ~PacketFlags.Frag,
        PacketType.Auth => PacketFlags.Reliable,
        PacketType.Batch => PacketFlags.Encrypted,
        _ => PacketFlags.None,
    };

    /// <summary>Builds the TF byte: <c>(type &lt;&lt; 5) | flags</c>.</summary>
    public static byte ToTypeAndFlags(PacketType type, PacketFlags flags) => (byte)(((int)type << 5) | (int)flags);

    /// <summary>The packet type of a TF byte (may be the reserved value 7).</summary>
    public static PacketType TypeOf(byte typeAndFlags) => (PacketType)(typeAndFlags >> 5);

    /// <summary>The flags of a TF byte.</summary>
    public static PacketFlags FlagsOf(byte typeAndFlags) => (PacketFlags)(typeAndFlags & 0x1F);
}
