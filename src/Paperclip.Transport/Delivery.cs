namespace Paperclip.Transport;

/// <summary>How a message is delivered.</summary>
public enum Delivery
{
    /// <summary>At most once, in any order; nothing is resent (game state that the next update replaces).</summary>
    Unreliable,
    /// <summary>Exactly once, in any order: resent until acknowledged; the session ends if it never is (protocol §4).</summary>
    Reliable,
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
    /// <summary>epoll on Linux, the portable engine elsewhere; the environment variable <c>PAPERCLIP_SOCKET_ENGINE</c> (<c>epoll</c> or <c>portable</c>) overrides it. The default.</summary>
    Automatic,
    /// <summary>Linux epoll driven by the engine's own threads: no thread hop and no copy per datagram.</summary>
    Epoll,
    /// <summary>.NET's own socket engine (awaited receives), on every platform; each datagram is copied and handed to the engine's thread.</summary>
    Portable,
}
