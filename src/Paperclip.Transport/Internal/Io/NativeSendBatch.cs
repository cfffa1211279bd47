using System.Net;
using System.Runtime.InteropServices;

namespace Paperclip.Transport.Internal.Io;

/// <summary>
/// The datagrams a native loop (epoll, io_uring) keeps during a turn: copied into
/// <see cref="SlotCount"/> native send slots, chained per socket, and handed to the kernel at the
/// end of the turn in one sendmmsg per socket (more only past the slots); 0 B allocated per
/// datagram. A datagram the kernel does not take (full send buffer, an error for its destination)
/// goes through .NET's socket, like a send from another thread. Loop thread only.
/// </summary>
internal sealed unsafe class NativeSendBatch
{
    // A default-sized datagram (1200 B) fits a slot with room to spare; 64 × 2 KiB per loop.
    public const int SlotSize = 2048;
    public const int SlotCount = 64;
    private const int AddressSize = 128; // sockaddr_storage

    // The send slots (data, then the destination), and for each its lengths and the next slot of
    // the same socket: datagrams of one socket leave in the order they were sent.
    private readonly byte* _slots;
    private readonly Libc.MMsgHdr* _messages;
    private readonly Libc.IoVec* _vectors;
    private readonly int[] _length = new int[SlotCount];
    private readonly int[] _addressLength = new int[SlotCount];
    private readonly int[] _next = new int[SlotCount];
    private readonly List<UdpEndpoint> _sending = [];
    private int _slotsUsed;

    public NativeSendBatch()
    {
        _slots = (byte*)NativeMemory.AllocZeroed((nuint)(SlotCount * (SlotSize + AddressSize)));
        _messages = (Libc.MMsgHdr*)NativeMemory.AllocZeroed((nuint)(SlotCount * sizeof(Libc.MMsgHdr)));
        _vectors = (Libc.IoVec*)NativeMemory.AllocZeroed((nuint)(SlotCount * sizeof(Libc.IoVec)));
    }

    /// <summary>sendmmsg calls made (loop thread writes; a test or a diagnostic reads).</summary>
    public long SendCalls => Volatile.Read(ref _sendCalls);

    /// <summary>Datagrams handed to the kernel by sendmmsg.</summary>
    public long DatagramsBatched => Volatile.Read(ref _datagramsBatched);

    private long _sendCalls;
    private long _datagramsBatched;

    /// <summary>Keeps a copy of the datagram; false when it cannot (the caller sends it now, after this socket's kept ones).</summary>
    public bool TryQueue(UdpEndpoint endpoint, ReadOnlySpan<byte> datagram, SocketAddress to)
    {
        if (datagram.Length > SlotSize || to.Family != endpoint.AddressFamily || to.Size > AddressSize || !Environment.Is64BitProcess)
        {
            Flush(endpoint); // the caller's send must not overtake this socket's kept ones
            return false;
        }
        if (_slotsUsed == SlotCount)
            FlushAll();
        var slot = _slotsUsed++;
        var data = _slots + (slot * (SlotSize + AddressSize));
        datagram.CopyTo(new Span<byte>(data, SlotSize));
        to.Buffer.Span[..to.Size].CopyTo(new Span<byte>(data + SlotSize, AddressSize));
        _length[slot] = datagram.Length;
        _addressLength[slot] = to.Size;
        _next[slot] = -1;
        if (endpoint.QueuedSendsHead < 0)
        {
            endpoint.QueuedSendsHead = slot;
            _sending.Add(endpoint);
        }
        else
        {
            _next[endpoint.QueuedSendsTail] = slot;
        }
        endpoint.QueuedSendsTail = slot;
        return true;
    }

    /// <summary>Sends every kept datagram.</summary>
    public void FlushAll()
    {
        if (_sending.Count == 0)
            return;
        foreach (var endpoint in _sending)
            Flush(endpoint);
        _sending.Clear();
        _slotsUsed = 0;
    }

    /// <summary>One socket's kept datagrams, in one sendmmsg when the kernel takes them all.</summary>
    public void Flush(UdpEndpoint endpoint)
    {
        var count = 0;
        for (var slot = endpoint.QueuedSendsHead; slot >= 0; slot = _next[slot])
        {
            var data = _slots + (slot * (SlotSize + AddressSize));
            _vectors[count].Base = data;
            _vectors[count].Length = (nuint)_length[slot];
            ref var message = ref _messages[count];
            message.Name = data + SlotSize;
            message.NameLength = _addressLength[slot];
            message.Iov = _vectors + count;
            message.IovLength = 1;
            count++;
        }
        endpoint.QueuedSendsHead = endpoint.QueuedSendsTail = -1;
        var sent = 0;
        while (sent < count)
        {
            var taken = Libc.SendMMsg(endpoint.FileDescriptor, _messages + sent, (uint)(count - sent), Libc.MSG_DONTWAIT);
            _sendCalls++;
            if (taken > 0)
            {
                _datagramsBatched += taken;
                sent += taken;
                continue;
            }
            // The kernel refused the first one (EAGAIN: the send buffer is full; or an error for
            // this destination): .NET's send waits for room, or logs the error, as any send does.
            ref var refused = ref _messages[sent];
            var address = endpoint.SendFallbackAddress;
            new ReadOnlySpan<byte>(refused.Name, refused.NameLength).CopyTo(address.Buffer.Span);
            address.Size = refused.NameLength;
            endpoint.SendNow(new ReadOnlySpan<byte>(refused.Iov->Base, (int)refused.Iov->Length), address);
            sent++;
        }
    }
}
