namespace Paperclip.Transport;

/// <summary>Server-wide counters, chiefly of the handshake and its defences (read from any thread).</summary>
public sealed class ServerStatistics
{
    internal long _handshakesCompleted;
    internal long _handshakesFailed;
    internal long _certificateChecks;
    internal long _keyAgreements;
    internal long _retriesSent;
    internal long _shortAuthDropped;
    internal long _unknownPeerDropped;
    internal long _amplificationLimited;
    internal long _bytesReceivedUnvalidated;
    internal long _bytesSentUnvalidated;

    /// <summary>Handshakes that ended with a connected client.</summary>
    public long HandshakesCompleted => Interlocked.Read(ref _handshakesCompleted);

    /// <summary>Handshakes refused (certificate, Finished, capacity, version) or timed out.</summary>
    public long HandshakesFailed => Interlocked.Read(ref _handshakesFailed);

    /// <summary>Certificate validations run (each after any cookie check).</summary>
    public long CertificateChecks => Interlocked.Read(ref _certificateChecks);

    /// <summary>ECDH key agreements run.</summary>
    public long KeyAgreements => Interlocked.Read(ref _keyAgreements);

    /// <summary>CONNECTION / RETRY answers sent (cookies handed out).</summary>
    public long RetriesSent => Interlocked.Read(ref _retriesSent);

    /// <summary>Client AUTH datagrams under 1200 bytes, dropped unanswered.</summary>
    public long ShortAuthDropped => Interlocked.Read(ref _shortAuthDropped);

    /// <summary>Datagrams from addresses without a session that were not an AUTH, dropped unanswered.</summary>
    public long UnknownPeerDropped => Interlocked.Read(ref _unknownPeerDropped);

    /// <summary>Handshake datagrams held back by the three-times limit.</summary>
    public long AmplificationLimited => Interlocked.Read(ref _amplificationLimited);

    /// <summary>Bytes received from addresses before their handshake completed.</summary>
    public long BytesReceivedUnvalidated => Interlocked.Read(ref _bytesReceivedUnvalidated);

    /// <summary>Bytes sent to addresses before their handshake completed.</summary>
    public long BytesSentUnvalidated => Interlocked.Read(ref _bytesSentUnvalidated);
}
