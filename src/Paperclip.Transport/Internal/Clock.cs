using System.Diagnostics;

namespace Paperclip.Transport.Internal;

/// <summary>
/// Milliseconds on the injected <see cref="TimeProvider"/>'s monotonic clock. On the system clock
/// every endpoint shares one time base (the I/O loops' timers are kept in it).
/// </summary>
internal sealed class Clock(TimeProvider provider)
{
    // One for every endpoint on the system clock: a datagram's handling reads the clock, and a
    // thousand servers' own copies are a thousand cold cache lines.
    private static readonly Clock s_system = new(TimeProvider.System);

    public TimeProvider Provider { get; } = provider;

    /// <summary>The clock of <paramref name="provider"/>: the shared one for <see cref="TimeProvider.System"/>.</summary>
    public static Clock For(TimeProvider provider) => ReferenceEquals(provider, TimeProvider.System) ? s_system : new Clock(provider);

    /// <summary>True on <see cref="TimeProvider.System"/>: the I/O loop's own timers serve it.</summary>
    public bool IsSystem => ReferenceEquals(Provider, TimeProvider.System);

    /// <summary>A high-resolution timestamp, for round-trip samples.</summary>
    public long Timestamp => Provider.GetTimestamp();

    /// <summary>Milliseconds, with fractions, since <paramref name="timestamp"/>.</summary>
    public double MillisecondsSince(long timestamp) => Provider.GetElapsedTime(timestamp).TotalMilliseconds;

    /// <summary>Now, in milliseconds of the provider's timestamps.</summary>
    public long NowMilliseconds => ToMilliseconds(Provider.GetTimestamp(), Provider.TimestampFrequency);

    /// <summary>Now on the system clock, in the same base as <see cref="NowMilliseconds"/> of a system clock.</summary>
    public static long SystemMilliseconds => ToMilliseconds(Stopwatch.GetTimestamp(), Stopwatch.Frequency);

    private static long ToMilliseconds(long timestamp, long frequency) =>
        (timestamp / frequency * 1000) + (timestamp % frequency * 1000 / frequency);
}
