namespace Paperclip.Transport.Internal.Connection.Congestion;

/// <summary>
/// AIMD in packets, as TCP Reno counts bytes: an acknowledged message grows the window by its
/// packets in slow start and by its share of one packet per window after; a retransmission
/// timeout halves it, at most once per RTO. Counting packets, not messages, keeps 200 KB messages
/// from flooding a slow path. The cap keeps in-flight ids (at most one per packet) far inside
/// half the sequence space (protocol §4).
/// </summary>
internal sealed class WindowCongestion : ICongestionController
{
    public const double InitialWindow = 64;
    public const double MinWindow = 16;
    public const double MaxWindow = 16_384;

    private double _slowStartThreshold = MaxWindow;
    private long _lastCutMs = long.MinValue / 2; // "long ago", without overflow in now − it

    public double Window { get; private set; } = InitialWindow;

    public bool InSlowStart => Window < _slowStartThreshold;

    public void OnAcknowledged(int packets) =>
        Window = Math.Min(MaxWindow, Window + (InSlowStart ? packets : packets / Window));

    public void OnRetransmissionTimeout(long now, double retransmissionTimeoutMs)
    {
        if (now - _lastCutMs < (long)retransmissionTimeoutMs)
            return;
        _lastCutMs = now;
        _slowStartThreshold = Math.Max(MinWindow, Window / 2);
        Window = _slowStartThreshold;
    }
}
