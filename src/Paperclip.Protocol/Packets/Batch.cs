using System.Buffers.Binary;

namespace Paperclip.Protocol;

/// <summary>
/// Walks the entries of a BATCH's DATA (protocol §2.1). Stops at the first malformed entry and
/// sets <see cref="IsMalformed"/>; entries before it stand. Inner packets are only checked for
/// what makes the batch malformed (LEN, type, ENCRYPTED); parsing them is the caller's.
/// </summary>
public ref struct BatchReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _position;

    /// <summary>True once an entry was malformed (or DATA was empty): the rest is PACKET / BATCH.</summary>
    public bool IsMalformed { get; private set; } = data.IsEmpty;

    /// <summary>Reads the next inner packet; false at the end or at a malformed entry.</summary>
    public bool TryReadNext(out ReadOnlySpan<byte> packet)
    {
        packet = default;
        if (IsMalformed || _position == _data.Length)
            return false;

        if (!BinaryPrimitives.TryReadUInt16BigEndian(_data[_position..], out var length)
            || length < ProtocolConstants.FixedHeaderSize
            || length > _data.Length - _position - Batch.EntryOverhead)
            return Malformed();

        var entry = _data.Slice(_position + Batch.EntryOverhead, length);
        var type = PacketRules.TypeOf(entry[0]);
        if (type is PacketType.Auth or PacketType.Batch || (PacketRules.FlagsOf(entry[0]) & PacketFlags.Encrypted) != 0)
            return Malformed();

        _position += Batch.EntryOverhead + length;
        packet = entry;
        return true;
    }

    private bool Malformed()
    {
        IsMalformed = true;
        return false;
    }
}

/// <summary>Builds a BATCH's DATA: each entry is LEN u16 then the inner packet.</summary>
public static class Batch
{
    /// <summary>Bytes the LEN prefix adds per entry.</summary>
    public const int EntryOverhead = 2;

    /// <summary>Writes the LEN prefix of an entry whose packet of <paramref name="packetLength"/> bytes follows.</summary>
    public static void WriteEntryLength(Span<byte> destination, int packetLength)
    {
        if (packetLength is < ProtocolConstants.FixedHeaderSize or > ushort.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(packetLength));
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)packetLength);
    }
}
