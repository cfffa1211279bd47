namespace Paperclip.Protocol;

/// <summary>Major error classes (protocol §7).</summary>
public enum ErrorMajor : byte
{
    /// <summary>Unclassified.</summary>
    Error = 0,
    /// <summary>The handshake failed or must be retried.</summary>
    Connection = 1,
    /// <summary>The session ends.</summary>
    Disconnect = 2,
    /// <summary>A malformed or rejected packet; informative, the session goes on.</summary>
    Packet = 3,
}

/// <summary>Minors of <see cref="ErrorMajor.Connection"/>.</summary>
public enum ConnectionError : byte
{
    /// <summary>Unspecified connection error.</summary>
    Connection = 0,
    /// <summary>The server is full.</summary>
    NoSpace = 1,
    /// <summary>A certificate or AUTH signature did not verify.</summary>
    CertificateInvalid = 2,
    /// <summary>A Finished MAC did not verify.</summary>
    FinishInvalid = 3,
    /// <summary>The AUTH carried a version the server does not speak.</summary>
    VersionUnsupported = 4,
    /// <summary>The server demands an address-validation cookie; DATA is the cookie.</summary>
    Retry = 5,
}

/// <summary>Minors of <see cref="ErrorMajor.Disconnect"/>.</summary>
public enum DisconnectReason : byte
{
    /// <summary>Unspecified.</summary>
    Disconnect = 0,
    /// <summary>The server is shutting down.</summary>
    ServerDisconnect = 1,
    /// <summary>The client left.</summary>
    ClientDisconnect = 2,
    /// <summary>The peer went silent, or a RELIABLE message was never acknowledged.</summary>
    Timeout = 3,
}

/// <summary>Minors of <see cref="ErrorMajor.Packet"/>: which part of a packet was wrong.</summary>
public enum PacketError : byte
{
    /// <summary>The datagram as a whole (too short, no room for the tag).</summary>
    Packet = 0,
    /// <summary>A reserved packet type.</summary>
    PacketType = 1,
    /// <summary>A flag the type does not allow.</summary>
    Flags = 2,
    /// <summary>The sequence id.</summary>
    SequenceId = 3,
    /// <summary>FRAG_ID / FRAG_COUNT missing or inconsistent.</summary>
    Fragment = 4,
    /// <summary>The packet number is missing.</summary>
    InitVector = 5,
    /// <summary>The CRC is missing or does not match.</summary>
    Checksum = 6,
    /// <summary>The ACK fields.</summary>
    Ack = 7,
    /// <summary>The AUTH fields.</summary>
    Auth = 8,
    /// <summary>The BEAT field.</summary>
    Heartbeat = 9,
    /// <summary>The ERROR fields.</summary>
    Error = 10,
    /// <summary>The data (for example it does not inflate within the cap).</summary>
    Data = 11,
    /// <summary>A message too large to send or receive.</summary>
    Size = 12,
    /// <summary>A malformed BATCH entry.</summary>
    Batch = 13,
    /// <summary>The CHANNEL fields (LANE, CSEQ), or a CHANNEL message outside its stream's window.</summary>
    Channel = 14,
}

/// <summary>A major/minor error code as carried by an ERROR packet.</summary>
/// <param name="Major">The major class.</param>
/// <param name="Minor">The minor within the class.</param>
public readonly record struct ErrorCode(ErrorMajor Major, byte Minor)
{
    /// <summary>ERROR / UNKNOWN: what any unknown major or minor reads as.</summary>
    public static readonly ErrorCode Unknown = new(ErrorMajor.Error, 0);

    private static readonly byte[] MinorCount = [1, 6, 4, 15];

    /// <summary>A CONNECTION error.</summary>
    public static ErrorCode Of(ConnectionError minor) => new(ErrorMajor.Connection, (byte)minor);

    /// <summary>A DISCONNECT error.</summary>
    public static ErrorCode Of(DisconnectReason minor) => new(ErrorMajor.Disconnect, (byte)minor);

    /// <summary>A PACKET error.</summary>
    public static ErrorCode Of(PacketError minor) => new(ErrorMajor.Packet, (byte)minor);

    /// <summary>Reads a code off the wire: an unknown major or minor becomes <see cref="Unknown"/>.</summary>
    public static ErrorCode FromWire(byte major, byte minor) =>
        major < MinorCount.Length && minor < MinorCount[major] ? new ErrorCode((ErrorMajor)major, minor) : Unknown;

    /// <summary>The minor as a CONNECTION error (meaningful when <see cref="Major"/> is Connection).</summary>
    public ConnectionError Connection => (ConnectionError)Minor;

    /// <summary>The minor as a DISCONNECT reason (meaningful when <see cref="Major"/> is Disconnect).</summary>
    public DisconnectReason Disconnect => (DisconnectReason)Minor;

    /// <summary>The minor as a PACKET error (meaningful when <see cref="Major"/> is Packet).</summary>
    public PacketError Packet => (PacketError)Minor;

    /// <summary>"MAJOR / MINOR" in the spec's upper-case names.</summary>
    public override string ToString() => Major switch
    {
        ErrorMajor.Connection => $"CONNECTION / {Name(Connection.ToString())}",
        ErrorMajor.Disconnect => $"DISCONNECT / {Name(Disconnect.ToString())}",
        ErrorMajor.Packet => $"PACKET / {Name(Packet.ToString())}",
        _ => "ERROR / UNKNOWN",
    };

    // PascalCase enum names back to the spec's UPPER_SNAKE names.
    private static string Name(string pascal) =>
        string.Concat(pascal.Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : char.ToUpperInvariant(c).ToString()));
}
