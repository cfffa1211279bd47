namespace Paperclip.Protocol;

/// <summary>Splits a message's data into fragments (protocol §3.2 step 3).</summary>
public static class Fragmenter
{
    /// <summary>
    /// DATA bytes one datagram of a message can carry: the maximum datagram size less the
    /// header (with FRAG fields) and, when sealed, the tag.
    /// </summary>
    public static int ChunkCapacity(int maxDatagramSize, int fragmentHeaderLength, bool encrypted) =>
        maxDatagramSize - fragmentHeaderLength - (encrypted ? ProtocolConstants.TagSize : 0);

    /// <summary>Fragments needed for <paramref name="dataLength"/> bytes, at least 1; may exceed 255 (the caller refuses it).</summary>
    public static int FragmentCount(int dataLength, int chunkCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkCapacity);
        return Math.Max(1, (dataLength + chunkCapacity - 1) / chunkCapacity);
    }

    /// <summary>The data of fragment <paramref name="index"/>.</summary>
    public static ReadOnlySpan<byte> Chunk(ReadOnlySpan<byte> data, int index, int chunkCapacity)
    {
        var start = index * chunkCapacity;
        return data.Slice(start, Math.Min(chunkCapacity, data.Length - start));
    }
}
