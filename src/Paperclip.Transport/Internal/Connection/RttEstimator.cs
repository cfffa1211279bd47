namespace Paperclip.Transport.Internal.Connection;

/// <summary>
/// Smoothed RTT and retransmission timeout, RFC 6298 (floor 10 ms, protocol §4) plus the 10 ms a
/// peer may hold its ACK (§4: "an ACK MUST leave within 10 ms"), as QUIC's probe timeout adds
/// max_ack_delay (RFC 9002 §6.2.1): without it, a receiver that merges ACKs or a peer thread
/// descheduled for a few milliseconds makes the whole window look lost on a sub-millisecond path.
/// Losses among messages followed by acknowledged ones are found sooner, from the ACKs.
/// </summary>
internal sealed class RttEstimator(double initialTimeoutMs, double maxTimeoutMs)
{
    private const double MinTimeoutMs = 10;
    private const double MaxAckDelayMs = 10;
    private bool _sampled;

    public double SmoothedMs { get; private set; }

    public double VariationMs { get; private set; }

    /// <summary>SRTT + 4·RTTVAR + the peer's ACK delay, at least 10 ms; the initial value before any sample.</summary>
    public double TimeoutMs { get; private set; } = initialTimeoutMs;

    /// <summary>Adds a sample from a message acknowledged without having been retransmitted (Karn).</summary>
    public void Add(double sampleMs)
    {
        TransportMetrics.RecordRtt(sampleMs);
        if (!_sampled)
        {
            _sampled = true;
            SmoothedMs = sampleMs;
            VariationMs = sampleMs / 2;
        }
        else
        {
            VariationMs = (0.75 * VariationMs) + (0.25 * Math.Abs(SmoothedMs - sampleMs));
            SmoothedMs = (0.875 * SmoothedMs) + (0.125 * sampleMs);
        }
        TimeoutMs = Math.Clamp(SmoothedMs + (4 * VariationMs) + MaxAckDelayMs, MinTimeoutMs, maxTimeoutMs);
    }

    /// <summary>The timeout for a message sent <paramref name="retries"/> times before: doubled per retry, capped.</summary>
    public double BackoffMs(int retries) => Math.Min(maxTimeoutMs, TimeoutMs * (1 << Math.Min(retries, 16)));
}
