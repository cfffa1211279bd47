using Paperclip.Protocol;

namespace Paperclip.Fuzz.Targets;

/// <summary>
/// <c>inflate</c>: <see cref="Deflate.TryInflate"/> with the default cap and with a small one.
/// Promised: true only within the cap, and true exactly when the data is valid DEFLATE that
/// fits, so the two caps agree on everything that fits the small one.
/// </summary>
public static class InflateTarget
{
    private const int SmallCap = 1024;

    public static void Run(ReadOnlySpan<byte> compressed)
    {
        var large = new byte[ProtocolConstants.MaxMessageSize];
        var small = new byte[SmallCap];
        var fitsLarge = Deflate.TryInflate(compressed, large, out var largeWritten);
        var fitsSmall = Deflate.TryInflate(compressed, small, out var smallWritten);
        if (largeWritten > large.Length || smallWritten > small.Length)
            throw new FindingException("Inflated past the destination.");
        if (fitsSmall && !(fitsLarge && largeWritten == smallWritten && large.AsSpan(0, largeWritten).SequenceEqual(small.AsSpan(0, smallWritten))))
            throw new FindingException($"Fits {SmallCap} B ({smallWritten} B) but not the same under the default cap ({fitsLarge}, {largeWritten} B).");
        if (fitsLarge && largeWritten <= SmallCap && !fitsSmall)
            throw new FindingException($"Inflates to {largeWritten} B under the default cap but fails under {SmallCap} B.");
    }
}
