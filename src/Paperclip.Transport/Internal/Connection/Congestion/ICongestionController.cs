namespace Paperclip.Transport.Internal.Connection.Congestion;

/// <summary>
/// How many packets of RELIABLE messages may be in flight. The sent-message tracker asks before
/// launching a message and reports what happened to those in flight.
/// </summary>
internal interface ICongestionController
{
    /// <summary>Packets (fragments) allowed in flight now.</summary>
    double Window { get; }

    /// <summary>A message of <paramref name="packets"/> packets was acknowledged.</summary>
    void OnAcknowledged(int packets);

    /// <summary>A retransmission timeout fired at <paramref name="now"/> (the path may be congested).</summary>
    void OnRetransmissionTimeout(long now, double retransmissionTimeoutMs);
}
