namespace Paperclip.Protocol;

/// <summary>Fixed values and the default limits of Paperclip Protocol v1 (protocol §8).</summary>
public static class ProtocolConstants
{
    /// <summary>The protocol version carried in AUTH.</summary>
    public const byte Version = 1;

    /// <summary>Bytes of the fixed header: TF and SEQ.</summary>
    public const int FixedHeaderSize = 3;

    /// <summary>Bytes of the AES-GCM tag that ends an ENCRYPTED datagram.</summary>
    public const int TagSize = 16;

    /// <summary>Bytes of the packet number of an ENCRYPTED datagram.</summary>
    public const int PacketNumberSize = 8;

    /// <summary>Default maximum datagram size; also the floor any configuration may use.</summary>
    public const int MaxDatagramSize = 1200;

    /// <summary>Minimum size of a client AUTH datagram (anti-amplification, §5.5).</summary>
    public const int MinClientAuthSize = 1200;

    /// <summary>Default maximum size of a message after reassembly and inflation.</summary>
    public const int MaxMessageSize = 262_144;

    /// <summary>The most fragments one message may have.</summary>
    public const int MaxFragments = 255;

    /// <summary>Default number of partial messages kept per session.</summary>
    public const int MaxPartialMessages = 64;

    /// <summary>Default bytes of partial messages kept per session.</summary>
    public const int MaxPartialBytes = 1 << 20;

    /// <summary>Maximum bytes of the text of an ERROR packet.</summary>
    public const int MaxErrorTextSize = 256;

    /// <summary>Packet numbers tracked below the highest one opened (§6.4).</summary>
    public const int ReplayWindowSize = 1024;

    /// <summary>A sender ends the session before its packet number reaches this (§6.3).</summary>
    public const ulong PacketNumberLimit = 1UL << 28;
}
