using System.Buffers.Binary;

namespace Paperclip.Protocol;

/// <summary>Writes big-endian fields into a span. The caller sizes the span first; writing past it throws, as a bug should.</summary>
public ref struct SpanWriter(Span<byte> buffer)
{
    private readonly Span<byte> _buffer = buffer;

    /// <summary>Bytes written so far.</summary>
    public int Position { get; private set; }

    /// <summary>Writes one byte.</summary>
    public void WriteByte(byte value) => _buffer[Position++] = value;

    /// <summary>Writes a big-endian u16.</summary>
    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[Position..], value);
        Position += 2;
    }

    /// <summary>Writes a big-endian u32.</summary>
    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer[Position..], value);
        Position += 4;
    }

    /// <summary>Writes a big-endian u64.</summary>
    public void WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(_buffer[Position..], value);
        Position += 8;
    }

    /// <summary>Copies bytes.</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_buffer[Position..]);
        Position += bytes.Length;
    }
}
