using System.Buffers;
using Paperclip.Protocol;

namespace Paperclip.Transport.Internal.Connection;

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
/// Packets waiting for the next flush: each as its header (the fields, not bytes: the
/// <see cref="Framer"/> writes it once, in the form the datagram needs) and its DATA. An
/// unreliable packet's DATA is copied into a pooled buffer here; a RELIABLE one's stays in its
/// <see cref="SentMessage"/>, which outlives the flush. A steady stream allocates nothing.
/// </summary>
internal sealed class OutgoingPackets : IDisposable
{
    // Small to start: a server holds one per session, and thousands of sessions would keep
    // memory the pool cannot recycle. A busy session grows it once, by doubling, and keeps it.
    private const int InitialSize = 2048;
    // Past this (a burst of large unreliable messages), the buffer goes back to the pool after the flush.
    private const int KeptSize = 64 * 1024;
    private byte[] _bytes = ArrayPool<byte>.Shared.Rent(InitialSize);
    private Entry[] _entries = new Entry[16];
    private int _length;

    public int Count { get; private set; }

    public ref readonly Entry this[int index] => ref _entries[index];

    /// <summary>Queues a packet whose DATA is copied now.</summary>
    public void Add(in PacketHeader header, ReadOnlySpan<byte> data, Framing framing)
    {
        if (_length + data.Length > _bytes.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_bytes.Length * 2, _length + data.Length));
            _bytes.AsSpan(0, _length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_bytes);
            _bytes = larger;
        }
        data.CopyTo(_bytes.AsSpan(_length));
        Append(new Entry(header, null, _length, data.Length, framing));
        _length += data.Length;
    }

    /// <summary>Queues a packet whose DATA is <paramref name="message"/>'s bytes at <paramref name="offset"/>.</summary>
    public void Add(in PacketHeader header, SentMessage message, int offset, int length, Framing framing) =>
        Append(new Entry(header, message, offset, length, framing));

    /// <summary>The DATA of an entry.</summary>
    public ReadOnlySpan<byte> Data(in Entry entry) =>
        entry.Message is { } message ? message.Data.Slice(entry.Offset, entry.Length) : _bytes.AsSpan(entry.Offset, entry.Length);

    public void Clear()
    {
        Array.Clear(_entries, 0, Count); // let acknowledged messages go
        Count = 0;
        _length = 0;
        if (_bytes.Length > KeptSize)
        {
            ArrayPool<byte>.Shared.Return(_bytes);
            _bytes = ArrayPool<byte>.Shared.Rent(InitialSize);
        }
    }

    public void Dispose()
    {
        Clear();
        ArrayPool<byte>.Shared.Return(_bytes);
        _bytes = [];
    }

    private void Append(in Entry entry)
    {
        if (Count == _entries.Length)
            Array.Resize(ref _entries, _entries.Length * 2);
        _entries[Count++] = entry;
    }

    internal readonly record struct Entry(PacketHeader Header, SentMessage? Message, int Offset, int Length, Framing Framing)
    {
        public bool IsSealed => (Framing & Framing.Sealed) != 0;

        public bool IsAlone => (Framing & Framing.Alone) != 0;

        /// <summary>Bytes of the packet as it travels inside a BATCH (no PN, no tag).</summary>
        public int InnerLength => PacketWriter.HeaderLength(Header.Type, Header.Flags) + Length;
    }
}
