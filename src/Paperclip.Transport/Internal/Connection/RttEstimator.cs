namespace Paperclip.Transport.Internal.Connection;

/// <summary>Smoothed RTT and retransmission timeout, RFC 6298 (floor 10 ms, protocol §4).</summary>
internal sealed class RttEstimator(double initialTimeoutMs, double maxTimeoutMs)
{
    private const double MinTimeoutMs = 10;
    private bool _sampled;

    public double SmoothedMs { get; private set; }

    public double VariationMs { get; private set; }

    /// <summary>SRTT + 4·RTTVAR, at least 10 ms; the initial value before any sample.</summary>
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
        TimeoutMs = Math.Clamp(SmoothedMs + (4 * VariationMs), MinTimeoutMs, maxTimeoutMs);
    }

    /// <summary>The timeout for a message sent <paramref name="retries"/> times before: doubled per retry, capped.</summary>
    public double BackoffMs(int retries) => Math.Min(maxTimeoutMs, TimeoutMs * (1 << Math.Min(retries, 16)));
}
