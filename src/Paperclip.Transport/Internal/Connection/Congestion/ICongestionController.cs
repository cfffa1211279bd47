namespace Paperclip.Transport.Internal.Connection.Congestion;

/// <summary>
/// How many bytes of RELIABLE messages may be in flight. The sent-message tracker asks before
/// launching a message and reports what happened to those in flight.
/// </summary>
internal interface ICongestionController
{
    /// <summary>Bytes allowed in flight now.</summary>
    long Window { get; }

    /// <summary>A message of <paramref name="bytes"/> (its weight), last sent at <paramref name="sentMs"/>, was acknowledged.</summary>
    void OnAcknowledged(int bytes, long sentMs);

    /// <summary>
    /// A message last sent at <paramref name="sentMs"/> is deemed lost at <paramref name="now"/>:
    /// later ones were acknowledged past it, or its retransmission timeout ran out.
    /// </summary>
    void OnLost(long now, long sentMs);
}
