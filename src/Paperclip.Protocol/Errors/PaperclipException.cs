namespace Paperclip.Protocol;

/// <summary>
/// Base of every Paperclip error. Each major/minor pair of protocol §7 has its own subtype, so
/// callers can catch exactly what they handle; <see cref="FromCode"/> and <see cref="Code"/>
/// convert between exceptions and wire codes.
/// </summary>
public class PaperclipException : Exception
{
    /// <summary>Creates an ERROR / UNKNOWN exception.</summary>
    public PaperclipException() : this(ErrorCode.Unknown, null) { }

    /// <summary>Creates an ERROR / UNKNOWN exception with a message.</summary>
    public PaperclipException(string? message) : this(ErrorCode.Unknown, message) { }

    /// <summary>Creates an ERROR / UNKNOWN exception with a message and an inner exception.</summary>
    public PaperclipException(string? message, Exception? innerException)
        : base(message, innerException) => Code = ErrorCode.Unknown;

    /// <summary>Creates an exception for <paramref name="code"/>.</summary>
    protected PaperclipException(ErrorCode code, string? message)
        : base(string.IsNullOrEmpty(message) ? code.ToString() : $"{code}: {message}") => Code = code;

    /// <summary>The wire code this exception stands for.</summary>
    public ErrorCode Code { get; }

    /// <summary>The exception type for a wire code (an unknown code gives the base type).</summary>
    public static PaperclipException FromCode(ErrorCode code, string? message = null) => code.Major switch
    {
        ErrorMajor.Connection => code.Connection switch
        {
            ConnectionError.NoSpace => new NoSpaceException(message),
            ConnectionError.CertificateInvalid => new CertificateInvalidException(message),
            ConnectionError.FinishInvalid => new FinishInvalidException(message),
            ConnectionError.VersionUnsupported => new VersionUnsupportedException(message),
            ConnectionError.Retry => new RetryException(message),
            _ => new ConnectionException(code, message),
        },
        ErrorMajor.Disconnect => code.Disconnect switch
        {
            DisconnectReason.ServerDisconnect => new ServerDisconnectException(message),
            DisconnectReason.ClientDisconnect => new ClientDisconnectException(message),
            DisconnectReason.Timeout => new TimeoutDisconnectException(message),
            _ => new DisconnectException(code, message),
        },
        ErrorMajor.Packet => PacketException.For(code.Packet, message),
        _ => new PaperclipException(ErrorCode.Unknown, message),
    };
}

/// <summary>CONNECTION errors: the handshake failed.</summary>
public class ConnectionException : PaperclipException
{
    /// <summary>Creates a CONNECTION / CONNECTION exception.</summary>
    public ConnectionException(string? message = null) : base(ErrorCode.Of(ConnectionError.Connection), message) { }

    /// <summary>Creates a CONNECTION exception with a given minor.</summary>
    protected internal ConnectionException(ErrorCode code, string? message) : base(code, message) { }
}

/// <summary>CONNECTION / NO_SPACE: the server is full.</summary>
public sealed class NoSpaceException(string? message = null) : ConnectionException(ErrorCode.Of(ConnectionError.NoSpace), message);

/// <summary>CONNECTION / CERTIFICATE_INVALID: a certificate or AUTH signature did not verify.</summary>
public sealed class CertificateInvalidException(string? message = null) : ConnectionException(ErrorCode.Of(ConnectionError.CertificateInvalid), message);

/// <summary>CONNECTION / FINISH_INVALID: a Finished MAC did not verify.</summary>
public sealed class FinishInvalidException(string? message = null) : ConnectionException(ErrorCode.Of(ConnectionError.FinishInvalid), message);

/// <summary>CONNECTION / VERSION_UNSUPPORTED: the peers speak different protocol versions.</summary>
public sealed class VersionUnsupportedException(string? message = null) : ConnectionException(ErrorCode.Of(ConnectionError.VersionUnsupported), message);

/// <summary>CONNECTION / RETRY: the server asked for a cookie (normally handled inside the client).</summary>
public sealed class RetryException(string? message = null) : ConnectionException(ErrorCode.Of(ConnectionError.Retry), message);

/// <summary>DISCONNECT errors: the session ended.</summary>
public class DisconnectException : PaperclipException
{
    /// <summary>Creates a DISCONNECT / DISCONNECT exception.</summary>
    public DisconnectException(string? message = null) : base(ErrorCode.Of(DisconnectReason.Disconnect), message) { }

    /// <summary>Creates a DISCONNECT exception with a given minor.</summary>
    protected internal DisconnectException(ErrorCode code, string? message) : base(code, message) { }

    /// <summary>Why the session ended.</summary>
    public DisconnectReason Reason => Code.Disconnect;
}

/// <summary>DISCONNECT / SERVER_DISCONNECT: the server shut down.</summary>
public sealed class ServerDisconnectException(string? message = null) : DisconnectException(ErrorCode.Of(DisconnectReason.ServerDisconnect), message);

/// <summary>DISCONNECT / CLIENT_DISCONNECT: the client left.</summary>
public sealed class ClientDisconnectException(string? message = null) : DisconnectException(ErrorCode.Of(DisconnectReason.ClientDisconnect), message);

/// <summary>DISCONNECT / TIMEOUT: the peer went silent, or a handshake or RELIABLE message timed out.</summary>
public sealed class TimeoutDisconnectException(string? message = null) : DisconnectException(ErrorCode.Of(DisconnectReason.Timeout), message);

/// <summary>PACKET errors: a malformed or rejected packet; <see cref="Error"/> says which part.</summary>
public class PacketException : PaperclipException
{
    /// <summary>Creates a PACKET / PACKET exception.</summary>
    public PacketException(string? message = null) : base(ErrorCode.Of(PacketError.Packet), message) { }

    /// <summary>Creates a PACKET exception with a given minor.</summary>
    protected internal PacketException(PacketError error, string? message) : base(ErrorCode.Of(error), message) { }

    /// <summary>Which part of the packet was wrong.</summary>
    public PacketError Error => Code.Packet;

    /// <summary>The exception type for a PACKET minor.</summary>
    public static PacketException For(PacketError error, string? message = null) => error switch
    {
        PacketError.PacketType => new PacketTypeException(message),
        PacketError.Flags => new PacketFlagsException(message),
        PacketError.SequenceId => new SequenceIdException(message),
        PacketError.Fragment => new FragmentException(message),
        PacketError.InitVector => new InitVectorException(message),
        PacketError.Checksum => new ChecksumException(message),
        PacketError.Ack => new AckException(message),
        PacketError.Auth => new AuthException(message),
        PacketError.Heartbeat => new HeartbeatException(message),
        PacketError.Error => new PacketErrorException(message),
        PacketError.Data => new DataException(message),
        PacketError.Size => new SizeException(message),
        PacketError.Batch => new BatchException(message),
        PacketError.Channel => new ChannelException(message),
        _ => new PacketException(message),
    };
}

/// <summary>PACKET / PACKET_TYPE: a reserved packet type.</summary>
public sealed class PacketTypeException(string? message = null) : PacketException(PacketError.PacketType, message);

/// <summary>PACKET / FLAGS: a flag the packet type does not allow.</summary>
public sealed class PacketFlagsException(string? message = null) : PacketException(PacketError.Flags, message);

/// <summary>PACKET / SEQUENCE_ID: a bad sequence id.</summary>
public sealed class SequenceIdException(string? message = null) : PacketException(PacketError.SequenceId, message);

/// <summary>PACKET / FRAGMENT: missing or inconsistent fragment fields.</summary>
public sealed class FragmentException(string? message = null) : PacketException(PacketError.Fragment, message);

/// <summary>PACKET / INIT_VECTOR: a missing packet number.</summary>
public sealed class InitVectorException(string? message = null) : PacketException(PacketError.InitVector, message);

/// <summary>PACKET / CHECKSUM: a missing or mismatched CRC.</summary>
public sealed class ChecksumException(string? message = null) : PacketException(PacketError.Checksum, message);

/// <summary>PACKET / ACK: malformed ACK fields.</summary>
public sealed class AckException(string? message = null) : PacketException(PacketError.Ack, message);

/// <summary>PACKET / AUTH: malformed AUTH fields.</summary>
public sealed class AuthException(string? message = null) : PacketException(PacketError.Auth, message);

/// <summary>PACKET / HEARTBEAT: a malformed BEAT field.</summary>
public sealed class HeartbeatException(string? message = null) : PacketException(PacketError.Heartbeat, message);

/// <summary>PACKET / ERROR: malformed ERROR fields.</summary>
public sealed class PacketErrorException(string? message = null) : PacketException(PacketError.Error, message);

/// <summary>PACKET / DATA: data that does not inflate within the cap.</summary>
public sealed class DataException(string? message = null) : PacketException(PacketError.Data, message);

/// <summary>PACKET / SIZE: a message too large.</summary>
public sealed class SizeException(string? message = null) : PacketException(PacketError.Size, message);

/// <summary>PACKET / BATCH: a malformed BATCH entry.</summary>
public sealed class BatchException(string? message = null) : PacketException(PacketError.Batch, message);

/// <summary>PACKET / CHANNEL: LANE or CSEQ invalid, or an ordered message outside its stream's window (version 2).</summary>
public sealed class ChannelException(string? message = null) : PacketException(PacketError.Channel, message);
