using Paperclip.Protocol;

namespace Paperclip.Transport;

/// <summary>
/// How a message is delivered. The first two travel as DEFAULT packets (every protocol version);
/// the others on one of a session's 64 channels as CHANNEL packets, which need protocol
/// version 2 (protocol §2.2). Each channel has one independent stream per channel delivery: a
/// message held back on one stream never holds back another.
/// </summary>
public enum Delivery
{
    /// <summary>At most once, in any order; nothing is resent (game state that the next update replaces).</summary>
    Unreliable,
    /// <summary>Exactly once, in any order: resent until acknowledged; the session ends if it never is (protocol §4).</summary>
    Reliable,
    /// <summary>Exactly once, in the order sent on its channel (events, chat, commands). A lost message holds back the later ones of its stream only.</summary>
    ReliableOrdered,
    /// <summary>
    /// Only messages newer than every one delivered on the stream; older ones are dropped. The
    /// newest always arrives: it is resent until acknowledged, and an older one stops being resent
    /// once a newer one is acknowledged (state where only the latest matters: a score, a door).
    /// </summary>
    ReliableSequenced,
    /// <summary>Only messages newer than every one delivered on the stream; nothing is resent (positions, inputs at a high rate).</summary>
    UnreliableSequenced,
}

/// <summary>How a received message travelled.</summary>
/// <param name="Delivery">The delivery it was sent with.</param>
/// <param name="Channel">Its channel, 0–63; 0 for <see cref="Transport.Delivery.Unreliable"/> and <see cref="Transport.Delivery.Reliable"/>, which have none.</param>
/// <param name="Flags">Its packet flags (RELIABLE, CHECKSUM, COMPRESSED, FRAG; ENCRYPTED when it arrived sealed or in a sealed BATCH).</param>
public readonly record struct MessageInfo(Delivery Delivery, int Channel, PacketFlags Flags)
{
    /// <summary>True when it arrived sealed (every message under the required encryption policy).</summary>
    public bool IsEncrypted => (Flags & PacketFlags.Encrypted) != 0;

    /// <summary>The send options that reproduce its CHECKSUM, COMPRESSED and plaintext form (an echo sends it back as it came).</summary>
    public SendOptions SendOptions =>
        ((Flags & PacketFlags.Checksum) != 0 ? SendOptions.Checksum : SendOptions.None)
        | ((Flags & PacketFlags.Compressed) != 0 ? SendOptions.Compress : SendOptions.None)
        | (IsEncrypted ? SendOptions.None : SendOptions.Plaintext);

    /// <summary>True for the deliveries that travel on a channel (protocol version 2).</summary>
    public static bool IsChannelDelivery(Delivery delivery) => delivery is Delivery.ReliableOrdered or Delivery.ReliableSequenced or Delivery.UnreliableSequenced;

    internal static MessageInfo Of(in PacketHeader header, bool encrypted)
    {
        var flags = header.Flags | (encrypted ? PacketFlags.Encrypted : PacketFlags.None);
        var reliable = (header.Flags & PacketFlags.Reliable) != 0;
        if (header.Type != PacketType.Channel)
            return new(reliable ? Delivery.Reliable : Delivery.Unreliable, 0, flags);
        var delivery = !header.Sequenced ? Delivery.ReliableOrdered : reliable ? Delivery.ReliableSequenced : Delivery.UnreliableSequenced;
        return new(delivery, header.Channel, flags);
    }
}

/// <summary>Per-message choices besides the delivery.</summary>
[Flags]
public enum SendOptions
{
    /// <summary>Sealed, uncompressed, no checksum. The default.</summary>
    None = 0,
    /// <summary>A CRC-32 of the message travels with it and is checked on arrival (protocol §3.2, CHECKSUM).</summary>
    Checksum = 1,
    /// <summary>DEFLATE-compressed on the way (COMPRESSED); worth it for large, repetitive messages.</summary>
    Compress = 2,
    /// <summary>Not sealed: only under <see cref="EncryptionPolicy.Optional"/> (an <see cref="ArgumentException"/> otherwise).</summary>
    Plaintext = 4,
}

/// <summary>Which readiness mechanism the process-wide I/O engine uses.</summary>
public enum SocketEngine
{
    /// <summary>io_uring on Linux where the kernel allows it, else epoll; the portable engine elsewhere. The environment variable <c>PAPERCLIP_SOCKET_ENGINE</c> (<c>epoll</c>, <c>io_uring</c> or <c>portable</c>) overrides it. The default.</summary>
    Automatic,
    /// <summary>Linux epoll driven by the engine's own threads: no thread hop and no copy per datagram.</summary>
    Epoll,
    /// <summary>.NET's own socket engine (awaited receives), on every platform; each datagram is copied and handed to the engine's thread.</summary>
    Portable,
    /// <summary>
    /// Linux io_uring (6.1 or later): every socket keeps a multishot receive armed, so one system
    /// call per turn takes the datagrams of all of them — cheaper than epoll when a process holds
    /// many sockets that each receive a little (a host of lobbies). Refused at start, with the
    /// reason, where the kernel or a seccomp filter does not allow it.
    /// </summary>
    IoUring,
}

/// <summary>A session's send buffer is full (<see cref="PaperclipOptions.MaxSendBufferBytes"/>): the peer is not keeping up. Use <c>TrySend</c>, or await <c>WhenWritableAsync</c>.</summary>
public sealed class SendBufferFullException(string message) : InvalidOperationException(message);
