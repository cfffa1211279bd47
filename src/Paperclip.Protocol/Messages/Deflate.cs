using System.IO.Compression;

namespace Paperclip.Protocol;

/// <summary>Raw DEFLATE (RFC 1951, no zlib header or trailer) with a cap on inflated output.</summary>
public static class Deflate
{
    /// <summary>An upper bound of the compressed size of <paramref name="length"/> bytes, to size the destination.</summary>
    public static int MaxCompressedLength(int length) => length + (length >> 3) + 64;

    // A final fixed-Huffman block holding only its end-of-block code (RFC 1951 §3.2.6).
    private static ReadOnlySpan<byte> EmptyStream => [0x03, 0x00];

    /// <summary>Compresses <paramref name="source"/> into <paramref name="destination"/> and returns the bytes written.</summary>
    /// <exception cref="ArgumentException">The destination is smaller than <see cref="MaxCompressedLength"/> needs.</exception>
    public static unsafe int Compress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (destination.Length < MaxCompressedLength(source.Length))
            throw new ArgumentException("The destination is too small for the worst case.", nameof(destination));
        // DeflateStream writes nothing at all for no input, which is no DEFLATE stream.
        if (source.IsEmpty)
        {
            EmptyStream.CopyTo(destination);
            return EmptyStream.Length;
        }
        fixed (byte* output = destination)
        {
            using var sink = new UnmanagedMemoryStream(output, 0, destination.Length, FileAccess.Write);
            using (var deflate = new DeflateStream(sink, CompressionLevel.Fastest, leaveOpen: true))
                deflate.Write(source);
            return checked((int)sink.Position);
        }
    }

    /// <summary>
    /// Inflates <paramref name="source"/> into <paramref name="destination"/>, whose length is the
    /// cap. False when the data is not valid DEFLATE or inflates to more than the cap (PACKET / DATA).
    /// </summary>
    public static unsafe bool TryInflate(ReadOnlySpan<byte> source, Span<byte> destination, out int written)
    {
        written = 0;
        // Not even a block header; and an empty span pins to a null pointer, which UnmanagedMemoryStream refuses.
        if (source.IsEmpty)
            return false;
        fixed (byte* input = source)
        {
            using var stream = new Source(input, source.Length);
            using var inflate = new DeflateStream(stream, CompressionMode.Decompress);
            try
            {
                int read;
                while (written < destination.Length && (read = inflate.Read(destination[written..])) > 0)
                    written += read;
                Span<byte> probe = stackalloc byte[1];
                return inflate.Read(probe) == 0 && !stream.ReadPastEnd;
            }
            catch (InvalidDataException)
            {
                written = 0;
                return false;
            }
        }
    }

    // The compressed data. DeflateStream ends a stream cut short of its final block as if it were
    // complete (dotnet/runtime#72726), but it asks its source for more only in that case: once the
    // final block is read it stops reading.
    private sealed unsafe class Source(byte* pointer, long length) : UnmanagedMemoryStream(pointer, length)
    {
        public bool ReadPastEnd { get; private set; }

        public override int Read(byte[] buffer, int offset, int count) => Note(base.Read(buffer, offset, count), count);

        public override int Read(Span<byte> buffer) => Note(base.Read(buffer), buffer.Length);

        private int Note(int read, int requested)
        {
            if (read == 0 && requested > 0)
                ReadPastEnd = true;
            return read;
        }
    }
}
