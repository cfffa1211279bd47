namespace Paperclip.Transport.Internal;

/// <summary>Milliseconds on the injected <see cref="TimeProvider"/>'s monotonic clock.</summary>
internal sealed class Clock(TimeProvider provider)
{
    private readonly long _origin = provider.GetTimestamp();

    public TimeProvider Provider { get; } = provider;

    /// <summary>A high-resolution timestamp, for round-trip samples.</summary>
    public long Timestamp => Provider.GetTimestamp();

    /// <summary>Milliseconds, with fractions, since <paramref name="timestamp"/>.</summary>
    public double MillisecondsSince(long timestamp) => Provider.GetElapsedTime(timestamp).TotalMilliseconds;

    /// <summary>Milliseconds since this clock was made.</summary>
    public long NowMilliseconds => (long)Provider.GetElapsedTime(_origin).TotalMilliseconds;
}
