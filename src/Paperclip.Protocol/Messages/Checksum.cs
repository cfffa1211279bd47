using System.IO.Hashing;

namespace Paperclip.Protocol;

/// <summary>The CRC-32 of a message's original data (IEEE 802.3, zlib's crc32; protocol §3.2).</summary>
public static class Checksum
{
    /// <summary>CRC-32 of <paramref name="data"/>; 0 for empty data.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Crc32.HashToUInt32(data);
}
