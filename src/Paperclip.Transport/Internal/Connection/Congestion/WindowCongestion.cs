namespace Paperclip.Transport.Internal.Connection.Congestion;

/// <summary>
/// NewReno in bytes, as RFC 9002 §7 has it for QUIC: an acknowledged message grows the window by
/// its bytes in slow start and by its share of one datagram per window after; a loss halves it
/// once per round trip — a loss of a message sent before the last cut belongs to the flight that
/// cut, and messages of that flight grow nothing. Counting bytes, not messages, lets the small
/// messages that share one datagram share one datagram's weight, and keeps 200 KB messages from
/// flooding a slow path. The floor keeps a lossy path moving (a game's stream must not stall on
/// random loss); the cap keeps a window far inside what any peer buffers.
/// </summary>
internal sealed class WindowCongestion : ICongestionController
{
    public const int InitialDatagrams = 64;
    public const int MinDatagrams = 16;
    public const int MaxDatagrams = 16_384;

    private readonly int _datagramSize;
    private long _slowStartThreshold;
    private long _recoveryStartMs = long.MinValue;
    private double _window;

    /// <param name="datagramSize">The weight of one full datagram: the unit of the window's growth and bounds.</param>
    public WindowCongestion(int datagramSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(datagramSize);
        _datagramSize = datagramSize;
        _window = (long)InitialDatagrams * datagramSize;
        _slowStartThreshold = MaxWindow;
    }

    public long MinWindow => (long)MinDatagrams * _datagramSize;

    public long MaxWindow => (long)MaxDatagrams * _datagramSize;

    public long Window => (long)_window;

    public bool InSlowStart => _window < _slowStartThreshold;

    /// <summary>True while the messages acknowledged were sent before the last cut.</summary>
    public bool InRecovery(long sentMs) => sentMs <= _recoveryStartMs;

    public void OnAcknowledged(int bytes, long sentMs)
    {
        if (InRecovery(sentMs))
            return;
        var growth = InSlowStart ? bytes : (double)_datagramSize * bytes / _window;
        _window = Math.Min(MaxWindow, _window + growth);
    }

    public void OnLost(long now, long sentMs)
    {
        if (InRecovery(sentMs))
            return;
        _recoveryStartMs = now;
        _slowStartThreshold = Math.Max(MinWindow, (long)(_window / 2));
        _window = _slowStartThreshold;
    }
}
