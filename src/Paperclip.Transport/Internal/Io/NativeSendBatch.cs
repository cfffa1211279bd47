using System.Net;
using System.Runtime.InteropServices;

namespace Paperclip.Transport.Internal.Io;

/// <summary>
/// The datagrams a native loop (epoll, io_uring) keeps during a turn: copied into
/// <see cref="SlotCount"/> native send slots, chained per socket, and handed to the kernel at the
/// end of the turn in one sendmmsg per socket (more only past the slots); 0 B allocated per
/// datagram. Consecutive datagrams of a socket to one destination and of one length (the last may
/// be shorter) leave as one UDP GSO message (<c>UDP_SEGMENT</c>): the kernel routes and builds
/// them once and cuts them into datagrams at the end, so the peer receives the same datagrams.
/// A datagram the kernel does not take (full send buffer, an error for its destination) goes
/// through .NET's socket, like a send from another thread. Loop thread only.
/// </summary>
internal sealed unsafe class NativeSendBatch
{
    // A default-sized datagram (1200 B) fits a slot with room to spare; 64 × 2 KiB per loop.
    public const int SlotSize = 2048;
    public const int SlotCount = 64;
    private const int AddressSize = 128; // sockaddr_storage

    // UDP GSO: at most 64 segments (the kernel's limit before 6.x) and one IP datagram's payload.
    private const int MaxSegments = 64;
    private const int MaxSegmentedBytes = 65_000;
    private const int SolUdp = 17;
    private const int UdpSegment = 103;
    private const int ControlSpace = 24; // CMSG_SPACE(sizeof(u16)) on LP64
    private const int EIO = 5;
    private const int EOPNOTSUPP = 95;

    // Off once the kernel refuses a segmented message as such: every later send is one datagram per message.
    private static volatile bool s_segmentationRefused;

    // The send slots (data, then the destination), and for each its lengths and the next slot of
    // the same socket: datagrams of one socket leave in the order they were sent.
    private readonly byte* _slots;
    private readonly Libc.MMsgHdr* _messages;
    private readonly Libc.IoVec* _vectors;
    private readonly byte* _controls;
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
        _controls = (byte*)NativeMemory.AllocZeroed((nuint)(SlotCount * ControlSpace));
    }

    /// <summary>Datagrams handed to the kernel by sendmmsg (loop thread writes; tests read).</summary>
    public long DatagramsBatched => Volatile.Read(ref _datagramsBatched);

    private long _datagramsBatched;

    /// <summary>Datagrams that left in a segmented (GSO) message of two or more.</summary>
    public long DatagramsSegmented => Volatile.Read(ref _datagramsSegmented);

    private long _datagramsSegmented;

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
        var vectors = 0;
        var bytes = 0; // of the message being built
        var segmentation = !s_segmentationRefused;
        for (var slot = endpoint.QueuedSendsHead; slot >= 0; slot = _next[slot], vectors++)
        {
            var data = _slots + (slot * (SlotSize + AddressSize));
            var length = _length[slot];
            _vectors[vectors].Base = data;
            _vectors[vectors].Length = (nuint)length;
            if (segmentation && count > 0 && TakesSegment(_messages[count - 1], bytes, data + SlotSize, _addressLength[slot], length))
            {
                _messages[count - 1].IovLength++;
                bytes += length;
                continue;
            }
            ref var message = ref _messages[count++];
            message.Name = data + SlotSize;
            message.NameLength = _addressLength[slot];
            message.Iov = _vectors + vectors;
            message.IovLength = 1;
            message.Control = null;
            message.ControlLength = 0;
            bytes = length;
        }
        endpoint.QueuedSendsHead = endpoint.QueuedSendsTail = -1;
        for (var i = 0; i < count; i++)
        {
            if (_messages[i].IovLength > 1)
                Segment(ref _messages[i], _controls + (i * ControlSpace));
        }
        var sent = 0;
        while (sent < count)
        {
            var taken = Libc.SendMMsg(endpoint.FileDescriptor, _messages + sent, (uint)(count - sent), Libc.MSG_DONTWAIT);
            if (taken > 0)
            {
                for (var i = sent; i < sent + taken; i++)
                {
                    var segments = (long)_messages[i].IovLength;
                    _datagramsBatched += segments;
                    if (segments > 1)
                        _datagramsSegmented += segments;
                }
                sent += taken;
                continue;
            }
            // The kernel refused the first one (EAGAIN: the send buffer is full; or an error for
            // this destination): .NET's send waits for room, or logs the error, as any send does,
            // one datagram at a time. A segmented message refused for want of GSO on the route
            // (EIO: no checksum offload; EOPNOTSUPP) turns segmentation off for the process; one
            // refused for its destination (EINVAL: port 0, a path MTU below the segment) does not.
            var error = Marshal.GetLastPInvokeError();
            ref var refused = ref _messages[sent];
            if (refused.IovLength > 1 && error is EIO or EOPNOTSUPP)
                s_segmentationRefused = true;
            var fallback = endpoint.SendFallbackAddress;
            new ReadOnlySpan<byte>(refused.Name, refused.NameLength).CopyTo(fallback.Buffer.Span);
            fallback.Size = refused.NameLength;
            for (var v = 0; v < (int)refused.IovLength; v++)
                endpoint.SendNow(new ReadOnlySpan<byte>(refused.Iov[v].Base, (int)refused.Iov[v].Length), fallback);
            sent++;
        }
    }

    // A message takes one more datagram as a segment when it goes to the same place, its datagrams
    // so far are all of its first's length (a shorter one can only be the last), and this one is
    // no longer.
    private static bool TakesSegment(in Libc.MMsgHdr message, int bytes, byte* address, int addressLength, int length)
    {
        var first = message.Iov[0].Length;
        return message.Iov[message.IovLength - 1].Length == first && (nuint)length <= first
            && message.IovLength < MaxSegments && bytes + length <= MaxSegmentedBytes
            && message.NameLength == addressLength
            && new ReadOnlySpan<byte>(address, addressLength).SequenceEqual(new ReadOnlySpan<byte>(message.Name, addressLength));
    }

    // A cmsg of UDP_SEGMENT carrying the segment size: the length of the message's first datagram.
    private static void Segment(ref Libc.MMsgHdr message, byte* control)
    {
        *(nuint*)control = 18; // CMSG_LEN(sizeof(u16))
        *(int*)(control + 8) = SolUdp;
        *(int*)(control + 12) = UdpSegment;
        *(ushort*)(control + 16) = (ushort)message.Iov[0].Length;
        message.Control = control;
        message.ControlLength = ControlSpace;
    }
}
