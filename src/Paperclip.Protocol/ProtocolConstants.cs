namespace Paperclip.Protocol;

/// <summary>Fixed values and the default limits of Paperclip Protocol versions 1 and 2 (protocol §8).</summary>
public static class ProtocolConstants
{
    /// <summary>Version 1: DEFAULT messages, unordered reliability, P-256 ephemeral keys.</summary>
    public const byte Version1 = 1;

    /// <summary>Version 2: version 1 plus CHANNEL streams (§2.2) and X25519 ephemeral keys (§6.1).</summary>
    public const byte Version2 = 2;

    /// <summary>The newest version this implementation speaks.</summary>
    public const byte LatestVersion = Version2;

    /// <summary>Channels per delivery on a session (LANE bits 5..0).</summary>
    public const int ChannelCount = 64;

    /// <summary>An ordered stream's sender stays this many messages past its oldest unacknowledged one at most (§2.2).</summary>
    public const int OrderedSendWindow = 4096;

    /// <summary>No SEQ is given out this far or more past the oldest unacknowledged RELIABLE message (§3.1).</summary>
    public const int SequenceWindow = 32_768;

    /// <summary>Default number of out-of-order CHANNEL messages held per session (§8).</summary>
    public const int MaxHeldMessages = 4096;

    /// <summary>Default bytes of out-of-order CHANNEL messages held per session (§8).</summary>
    public const int MaxHeldBytes = 1 << 20;

    /// <summary>Default bytes of out-of-order CHANNEL messages held over all sessions of a server (§8).</summary>
    public const long MaxHeldBytesTotal = 64L << 20;

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
