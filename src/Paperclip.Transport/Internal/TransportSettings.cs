namespace Paperclip.Transport.Internal;

/// <summary>
/// A snapshot of validated <see cref="PaperclipOptions"/>, taken when a client or server is made:
/// changing the options afterwards changes nothing. Times in milliseconds, as the core counts them.
/// </summary>
internal sealed record TransportSettings
{
    public TransportSettings(PaperclipOptions options)
    {
        MaxDatagramSize = options.MaxDatagramSize;
        MaxMessageSize = options.MaxMessageSize;
        MaxPartialMessages = options.MaxPartialMessages;
        MaxPartialBytes = options.MaxPartialBytes;
        ReassemblyTimeoutMs = Milliseconds(options.ReassemblyTimeout);
        MaxHeldMessages = options.MaxHeldMessages;
        MaxHeldBytes = options.MaxHeldBytes;
        MaxSendBufferBytes = options.MaxSendBufferBytes;
        MaxUnreliableQueueDelayMs = Milliseconds(options.MaxUnreliableQueueDelay);
        HeartbeatIntervalMs = Milliseconds(options.HeartbeatInterval);
        HeartbeatRetryMs = Math.Min(Milliseconds(options.HeartbeatRetryInterval), HeartbeatIntervalMs);
        HeartbeatTimeoutMs = Milliseconds(options.HeartbeatTimeout);
        HandshakeTimeoutMs = Milliseconds(options.HandshakeTimeout);
        ReliableTimeoutMs = Milliseconds(options.ReliableTimeout);
        InitialRetransmissionTimeoutMs = options.InitialRetransmissionTimeout.TotalMilliseconds;
        MaxRetransmissionTimeoutMs = options.MaxRetransmissionTimeout.TotalMilliseconds;
        EncryptionPolicy = options.EncryptionPolicy;
        TimeProvider = options.TimeProvider;
        SocketBufferSize = options.SocketBufferSize;
        SocketEngine = options.SocketEngine;
    }

    public int MaxDatagramSize { get; }
    public int MaxMessageSize { get; }
    public int MaxPartialMessages { get; }
    public int MaxPartialBytes { get; }
    public long ReassemblyTimeoutMs { get; }
    public int MaxHeldMessages { get; }
    public int MaxHeldBytes { get; }
    public int MaxSendBufferBytes { get; }
    public long MaxUnreliableQueueDelayMs { get; }
    public long HeartbeatIntervalMs { get; }
    public long HeartbeatRetryMs { get; }
    public long HeartbeatTimeoutMs { get; }
    public long HandshakeTimeoutMs { get; }
    public long ReliableTimeoutMs { get; }
    public double InitialRetransmissionTimeoutMs { get; }
    public double MaxRetransmissionTimeoutMs { get; }
    public EncryptionPolicy EncryptionPolicy { get; }
    public TimeProvider TimeProvider { get; }
    public int SocketBufferSize { get; }
    public SocketEngine SocketEngine { get; }

    private static long Milliseconds(TimeSpan value) => (long)value.TotalMilliseconds;
}
