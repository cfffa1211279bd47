using Paperclip.Protocol;

namespace Paperclip.Transport;

/// <summary>Whether connected peers must seal every packet (protocol §6.5).</summary>
public enum EncryptionPolicy
{
    /// <summary>Every packet after the handshake is sealed; a connected peer's plaintext is dropped. The default.</summary>
    Required,
    /// <summary>The application chooses ENCRYPTED per message; plaintext is admitted.</summary>
    Optional,
}

/// <summary>Where events are raised.</summary>
public enum EventDelivery
{
    /// <summary>On the network threads, as they happen (handlers must be quick and thread-safe). The default.</summary>
    Immediate,
    /// <summary>Queued, and raised by <c>Poll()</c> on the thread that calls it (a game loop).</summary>
    Polled,
}

/// <summary>
/// Options shared by clients and servers. Defaults are the spec's (protocol §8). A client or
/// server validates and copies them when it is made; changing them afterwards changes nothing.
/// </summary>
public abstract class PaperclipOptions
{
    /// <summary>Only <see cref="PaperclipClientOptions"/> and <see cref="PaperclipServerOptions"/> derive from this.</summary>
    private protected PaperclipOptions()
    {
    }

    /// <summary>Largest datagram sent or accepted. Default 1200 (the IPv6 minimum MTU); at least 1200, at most 65,507.</summary>
    public int MaxDatagramSize { get; set; } = ProtocolConstants.MaxDatagramSize;

    /// <summary>Largest message after reassembly and inflation. Default 262,144; at most 255 fragments' worth.</summary>
    public int MaxMessageSize { get; set; } = ProtocolConstants.MaxMessageSize;

    /// <summary>Partial fragmented messages kept per session. Default 64; the oldest goes first.</summary>
    public int MaxPartialMessages { get; set; } = ProtocolConstants.MaxPartialMessages;

    /// <summary>Bytes of partial messages kept per session. Default 1 MiB.</summary>
    public int MaxPartialBytes { get; set; } = ProtocolConstants.MaxPartialBytes;

    /// <summary>
    /// Out-of-order CHANNEL messages held per session, waiting for the one their ordered stream
    /// needs next (protocol §8). Default 4096, the spec's and one ordered send window: past it a new
    /// one is refused and resent by the peer later.
    /// </summary>
    public int MaxHeldMessages { get; set; } = ProtocolConstants.MaxHeldMessages;

    /// <summary>Bytes of out-of-order CHANNEL messages held per session. Default 1 MiB, the spec's.</summary>
    public int MaxHeldBytes { get; set; } = ProtocolConstants.MaxHeldBytes;

    /// <summary>
    /// Bytes a session holds for sending at most: queued, waiting for the congestion or stream
    /// windows, or in flight unacknowledged. Past it <c>TrySend</c> returns false and <c>Send</c>
    /// throws <see cref="SendBufferFullException"/>; <c>WhenWritableAsync</c> waits for room.
    /// Default 256 KiB: one maximum-size message, or 2.5 MB/s of reliable data over a 100 ms round
    /// trip (20 Mbit/s: far more than a game sends a player). A larger buffer only queues: with
    /// 1 MiB, 64 B messages on loopback waited 7 ms in it, and the 16,000 messages it held spilled
    /// out of the processor's caches — 1.3–1.4 M msg/s where 256 KiB gave 1.9–2.1 M, and every
    /// loss and size case of the harness was faster too (docs/performance.md). Raise it for bulk
    /// transfers over long paths. A slow or vanished peer cannot make a sender hoard more. An empty
    /// buffer always takes one message, however large.
    /// </summary>
    public int MaxSendBufferBytes { get; set; } = 256 * 1024;

    /// <summary>
    /// An unreliable message still queued this long after it was sent (the I/O loop was busy) is
    /// dropped, and counted in <see cref="ConnectionStatistics.UnreliableDropped"/>, rather than
    /// sent late. Default 200 ms: several frames of a 20–60 Hz game, after which a state update is
    /// stale and its successor is on its way.
    /// </summary>
    public TimeSpan MaxUnreliableQueueDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>A partial message that gained no fragment for this long is dropped. Default 10 s.</summary>
    public TimeSpan ReassemblyTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A side that heard nothing for this long sends a PING. Default 30 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// While the peer stays silent past <see cref="HeartbeatInterval"/>, the PING is repeated this
    /// often. Default 1 s; an interval shorter than this takes its place. A single PING per
    /// interval would end a healthy session on a lossy path whenever three PING/PONG exchanges in
    /// a row lose a datagram (about one idle session in eight per two minutes at 30 % loss).
    /// </summary>
    public TimeSpan HeartbeatRetryInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A peer silent this long is dropped with DISCONNECT / TIMEOUT. Default 120 s; more than the interval.</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>A handshake not finished within this is abandoned. Default 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A RELIABLE message unacknowledged this long ends the session. Default 30 s.</summary>
    public TimeSpan ReliableTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Retransmission timeout before any RTT sample. Default 200 ms.</summary>
    public TimeSpan InitialRetransmissionTimeout { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Ceiling of a message's doubling retransmission timeout. Default 2 s.</summary>
    public TimeSpan MaxRetransmissionTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Whether connected peers must encrypt. Default <see cref="EncryptionPolicy.Required"/>.</summary>
    public EncryptionPolicy EncryptionPolicy { get; set; } = EncryptionPolicy.Required;

    /// <summary>Where events are raised. Default <see cref="EventDelivery.Immediate"/>.</summary>
    public EventDelivery EventDelivery { get; set; } = EventDelivery.Immediate;

    /// <summary>Clock for every timer, timeout and statistic. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Kernel socket buffer sizes in bytes. Default 4 MiB each (the kernel may cap it).</summary>
    public int SocketBufferSize { get; set; } = 4 << 20;

    /// <summary>
    /// Which readiness mechanism the process-wide I/O engine uses for this socket. Default
    /// <see cref="SocketEngine.Automatic"/>: io_uring on Linux where the kernel allows it (cheapest
    /// per datagram), else epoll; .NET's socket engine elsewhere.
    /// </summary>
    public SocketEngine SocketEngine { get; set; } = SocketEngine.Automatic;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range.</summary>
    internal virtual void Validate()
    {
        Require(MaxDatagramSize is >= ProtocolConstants.MaxDatagramSize and <= 65_507, nameof(MaxDatagramSize), "must be 1200 … 65507");
        Require(MaxMessageSize > 0, nameof(MaxMessageSize), "must be positive");
        Require(MaxPartialMessages > 0, nameof(MaxPartialMessages), "must be positive");
        Require(MaxPartialBytes > 0, nameof(MaxPartialBytes), "must be positive");
        Require(ReassemblyTimeout > TimeSpan.Zero, nameof(ReassemblyTimeout), "must be positive");
        Require(MaxHeldMessages > 0, nameof(MaxHeldMessages), "must be positive");
        Require(MaxHeldBytes > 0, nameof(MaxHeldBytes), "must be positive");
        Require(MaxSendBufferBytes > 0, nameof(MaxSendBufferBytes), "must be positive");
        Require(MaxUnreliableQueueDelay > TimeSpan.Zero, nameof(MaxUnreliableQueueDelay), "must be positive");
        Require(HeartbeatInterval > TimeSpan.Zero, nameof(HeartbeatInterval), "must be positive");
        Require(HeartbeatRetryInterval > TimeSpan.Zero, nameof(HeartbeatRetryInterval), "must be positive");
        Require(HeartbeatTimeout > HeartbeatInterval, nameof(HeartbeatTimeout), "must exceed HeartbeatInterval");
        Require(HandshakeTimeout > TimeSpan.Zero, nameof(HandshakeTimeout), "must be positive");
        Require(ReliableTimeout > TimeSpan.Zero, nameof(ReliableTimeout), "must be positive");
        Require(InitialRetransmissionTimeout >= TimeSpan.FromMilliseconds(10), nameof(InitialRetransmissionTimeout), "must be at least 10 ms");
        Require(MaxRetransmissionTimeout >= InitialRetransmissionTimeout, nameof(MaxRetransmissionTimeout), "must be at least InitialRetransmissionTimeout");
        Require(SocketBufferSize > 0, nameof(SocketBufferSize), "must be positive");
        Require(Enum.IsDefined(SocketEngine), nameof(SocketEngine), "must be Automatic, Epoll, Portable or IoUring");
        Require(SocketEngine is not (SocketEngine.Epoll or SocketEngine.IoUring) || OperatingSystem.IsLinux(), nameof(SocketEngine), "Epoll and IoUring need Linux");
        ArgumentNullException.ThrowIfNull(TimeProvider);
    }

    /// <summary>Throws an <see cref="ArgumentException"/> for <paramref name="name"/> unless <paramref name="condition"/>.</summary>
    private protected static void Require(bool condition, string name, string rule)
    {
        if (!condition)
            throw new ArgumentException($"{name} {rule}.", name);
    }
}
