namespace Paperclip.Transport;

/// <summary>Why a received datagram or packet was dropped.</summary>
public enum DropReason
{
    /// <summary>It did not parse (a PACKET error).</summary>
    Malformed,
    /// <summary>The session's state or the encryption policy does not admit it.</summary>
    NotAdmitted,
    /// <summary>Its packet number was already seen or is behind the replay window.</summary>
    Replay,
    /// <summary>The AEAD tag did not verify.</summary>
    Authentication,
    /// <summary>The CRC did not match.</summary>
    Checksum,
    /// <summary>It did not inflate within the maximum message size.</summary>
    Decompression,
    /// <summary>A RELIABLE message delivered before (acknowledged again, not delivered).</summary>
    Duplicate,
    /// <summary>Its fragment set was inconsistent or over the reassembly caps.</summary>
    Reassembly,
    /// <summary>An out-of-order CHANNEL message past the held-message bounds: not acknowledged, so the peer resends it (protocol §2.2).</summary>
    Refused,
}

/// <summary>
/// Counters of one session. Each is written by one network thread and may be read from any
/// thread (a read may be a moment stale).
/// </summary>
public sealed class ConnectionStatistics
{
    private readonly long[] _drops = new long[Enum.GetValues<DropReason>().Length];
    private long _smoothedRttTicks;

    /// <summary>Smoothed round-trip time (RFC 6298), zero before the first sample.</summary>
    public TimeSpan RoundTripTime => TimeSpan.FromTicks(Volatile.Read(ref _smoothedRttTicks));

    /// <summary>Datagrams sent.</summary>
    public long DatagramsSent { get; internal set; }

    /// <summary>Bytes of datagrams sent.</summary>
    public long BytesSent { get; internal set; }

    /// <summary>Datagrams received from the peer.</summary>
    public long DatagramsReceived { get; internal set; }

    /// <summary>Bytes of datagrams received from the peer.</summary>
    public long BytesReceived { get; internal set; }

    /// <summary>Application messages sent.</summary>
    public long MessagesSent { get; internal set; }

    /// <summary>Application messages delivered.</summary>
    public long MessagesReceived { get; internal set; }

    /// <summary>RELIABLE messages sent again after their timeout.</summary>
    public long Retransmissions { get; internal set; }

    /// <summary>
    /// Unreliable messages dropped before they left: older than the maximum queue delay when the
    /// I/O loop got to them, or with no sequence id free (protocol §3.1's window).
    /// </summary>
    public long UnreliableDropped { get; internal set; }

    /// <summary>Drops for one reason.</summary>
    public long Dropped(DropReason reason) => Volatile.Read(ref _drops[(int)reason]);

    /// <summary>Drops for every reason.</summary>
    public long TotalDropped => _drops.Sum();

    internal void Drop(DropReason reason) => Interlocked.Increment(ref _drops[(int)reason]);

    internal void SetRoundTripTime(double milliseconds) => Volatile.Write(ref _smoothedRttTicks, (long)(milliseconds * TimeSpan.TicksPerMillisecond));
}
