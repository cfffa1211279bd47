using System.Buffers;

namespace Paperclip.Transport.Internal;

/// <summary>How a queued packet may travel.</summary>
[Flags]
internal enum Framing : byte
{
    /// <summary>Plaintext, may share a plaintext BATCH.</summary>
    Plain = 0,
    /// <summary>Sealed, alone or in a sealed BATCH.</summary>
    Sealed = 1,
    /// <summary>Never batched (handshake packets: a pending peer admits no BATCH).</summary>
    Alone = 2,
}

/// <summary>
/// Packets waiting for the next flush, each encoded as it would travel inside a BATCH (no
/// ENCRYPTED flag, no PN, no tag): the flush decides how to frame and seal them. The byte
/// buffer is pooled and reused, so a steady stream of sends allocates nothing.
/// </summary>
internal sealed class OutgoingQueue : IDisposable
{
    // Small to start: a server holds two per session, and thousands of sessions would keep
    // megabytes the pool cannot recycle. A busy session grows it once, by doubling, and keeps it.
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(2048);
    private Entry[] _entries = new Entry[64];
    private int _length;

    public int Count { get; private set; }

    public int Bytes => _length;

    public ref readonly Entry this[int index] => ref _entries[index];

    public ReadOnlySpan<byte> Packet(in Entry entry) => _buffer.AsSpan(entry.Offset, entry.Length);

    /// <summary>Room for a packet of up to <paramref name="maxLength"/> bytes; <see cref="Commit"/> says how much was used.</summary>
    public Span<byte> Reserve(int maxLength)
    {
        if (_length + maxLength > _buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + maxLength));
            _buffer.AsSpan(0, _length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }
        return _buffer.AsSpan(_length, maxLength);
    }

    public void Commit(int length, Framing framing)
    {
        if (Count == _entries.Length)
            Array.Resize(ref _entries, _entries.Length * 2);
        _entries[Count++] = new Entry(_length, length, framing);
        _length += length;
    }

    public void Add(ReadOnlySpan<byte> packet, Framing framing)
    {
        packet.CopyTo(Reserve(packet.Length));
        Commit(packet.Length, framing);
    }

    public void Clear()
    {
        Count = 0;
        _length = 0;
    }

    public void Dispose()
    {
        Clear();
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    internal readonly record struct Entry(int Offset, int Length, Framing Framing)
    {
        public bool IsSealed => (Framing & Framing.Sealed) != 0;

        public bool IsAlone => (Framing & Framing.Alone) != 0;
    }
}
