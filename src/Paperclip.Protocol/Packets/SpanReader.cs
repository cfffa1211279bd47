using System.Buffers.Binary;

namespace Paperclip.Protocol;

/// <summary>Reads big-endian fields off a span; every read returns false on short input instead of throwing.</summary>
public ref struct SpanReader(ReadOnlySpan<byte> buffer)
{
    private readonly ReadOnlySpan<byte> _buffer = buffer;

    /// <summary>Bytes consumed so far.</summary>
    public int Position { get; private set; }

    /// <summary>Bytes left to read.</summary>
    public readonly int Remaining => _buffer.Length - Position;

    /// <summary>Reads one byte.</summary>
    public bool TryReadByte(out byte value)
    {
        if (Remaining < 1)
        {
            value = 0;
            return false;
        }
        value = _buffer[Position++];
        return true;
    }

    /// <summary>Reads a big-endian u16.</summary>
    public bool TryReadUInt16(out ushort value)
    {
        if (!BinaryPrimitives.TryReadUInt16BigEndian(_buffer[Position..], out value))
            return false;
        Position += 2;
        return true;
    }

    /// <summary>Reads a big-endian u32.</summary>
    public bool TryReadUInt32(out uint value)
    {
        if (!BinaryPrimitives.TryReadUInt32BigEndian(_buffer[Position..], out value))
            return false;
        Position += 4;
        return true;
    }

    /// <summary>Reads a big-endian u64.</summary>
    public bool TryReadUInt64(out ulong value)
    {
        if (!BinaryPrimitives.TryReadUInt64BigEndian(_buffer[Position..], out value))
            return false;
        Position += 8;
        return true;
    }

    /// <summary>Skips <paramref name="length"/> bytes, reporting where they start.</summary>
    public bool TrySkip(int length, out int start)
    {
        start = Position;
        if (Remaining < length)
            return false;
        Position += length;
        return true;
    }
}
