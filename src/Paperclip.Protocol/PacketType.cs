namespace Paperclip.Protocol;

/// <summary>The packet type in bits 7..5 of the TF byte (protocol §1.1).</summary>
public enum PacketType : byte
{
    /// <summary>Application data.</summary>
    Default = 0,
    /// <summary>Acknowledgement of RELIABLE messages (and the handshake's Finished messages).</summary>
    Ack = 1,
    /// <summary>Handshake message carrying a certificate, an ephemeral key and a signature.</summary>
    Auth = 2,
    /// <summary>Keep-alive PING or PONG.</summary>
    Heartbeat = 3,
    /// <summary>Error or disconnect notice.</summary>
    Error = 4,
    /// <summary>A container of several packets sealed once (protocol §2.1).</summary>
    Batch = 5,
    /// <summary>Application data on an ordered or sequenced stream (protocol §2.2); version 2 only.</summary>
    Channel = 6,
}
