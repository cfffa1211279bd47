namespace Paperclip.Protocol;

/// <summary>16-bit sequence id arithmetic (RFC 1982 serial numbers, protocol §3.1).</summary>
public static class SequenceNumber
{
    /// <summary>True when <paramref name="a"/> is newer than <paramref name="b"/>: (a − b) mod 65536 in 1 … 32767.</summary>
    public static bool IsNewer(ushort a, ushort b)
    {
        var distance = (ushort)(a - b);
        return distance is >= 1 and <= 32767;
    }

    /// <summary>How far <paramref name="a"/> is ahead of <paramref name="b"/>, modulo 65536.</summary>
    public static int Distance(ushort a, ushort b) => (ushort)(a - b);
}
