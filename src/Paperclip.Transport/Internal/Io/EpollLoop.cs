using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Paperclip.Transport.Internal.Io;

/// <summary>
/// An <see cref="IoLoop"/> on Linux epoll: one epoll set per loop holding its sockets (level-
/// triggered: a socket left with datagrams after a burst is reported again) and an eventfd for
/// wake-ups. Receives are non-blocking recvmmsg calls taking up to <see cref="BatchSize"/>
/// datagrams each into the loop's native slots, until the socket is empty or a burst is done: one
/// system call per wake-up when a socket holds a few datagrams (recvfrom needed one per datagram
/// and one more to find the socket empty). Endpoints whose datagrams can exceed a slot receive
/// with recvfrom into the 64 KiB buffer. Sends made on the loop during a turn leave at its end in
/// one sendmmsg per socket (<see cref="NativeSendBatch"/>).
/// </summary>
internal sealed unsafe class EpollLoop : NativeLoop
{
    private const int MaxEvents = 256;
    // Datagrams taken from one socket per readiness report: others on the loop get their turn.
    private const int BurstSize = 64;
    private const ulong WakeToken = 0;
    // Datagrams per recvmmsg, and the bytes of a slot: a default-sized datagram (1200 B) and the
    // extra byte that tells an oversize one. 32 × 2 KiB per loop.
    private const int BatchSize = 32;
    private const int SlotSize = 2048;
    private const int AddressSize = 128; // sockaddr_storage

    private readonly Libc.MMsgHdr* _messages;
    private readonly byte* _slots;

    private readonly int _epoll;
    private readonly byte* _events;

    public EpollLoop(string name, ILogger logger)
        : base(name, logger, Libc.EFD_NONBLOCK)
    {
        _epoll = Libc.EpollCreate(Libc.EPOLL_CLOEXEC);
        if (_epoll < 0)
            throw new SocketException(Marshal.GetLastPInvokeError());
        Control(Libc.EPOLL_CTL_ADD, WakeFd, WakeToken);
        _events = (byte*)NativeMemory.AllocZeroed((nuint)(MaxEvents * Libc.EpollEventSize));
        _messages = (Libc.MMsgHdr*)NativeMemory.AllocZeroed((nuint)(BatchSize * sizeof(Libc.MMsgHdr)));
        var vectors = (Libc.IoVec*)NativeMemory.AllocZeroed((nuint)(BatchSize * sizeof(Libc.IoVec)));
        _slots = (byte*)NativeMemory.AllocZeroed((nuint)(BatchSize * (SlotSize + AddressSize)));
        for (var i = 0; i < BatchSize; i++)
        {
            vectors[i].Base = _slots + (i * (SlotSize + AddressSize));
            _messages[i].Iov = vectors + i;
            _messages[i].IovLength = 1;
            _messages[i].Name = vectors[i].Base + SlotSize;
        }
    }

    public override void Register(UdpEndpoint endpoint)
    {
        endpoint.LoopHandle = GCHandle.Alloc(endpoint);
        Control(Libc.EPOLL_CTL_ADD, endpoint.FileDescriptor, (ulong)GCHandle.ToIntPtr(endpoint.LoopHandle));
    }

    public override void Unregister(UdpEndpoint endpoint)
    {
        // What it sent this turn leaves before the socket closes.
        Sends.Flush(endpoint);
        Control(Libc.EPOLL_CTL_DEL, endpoint.FileDescriptor, 0);
        // Events of this turn may still name the endpoint (a closed one ignores them): its handle
        // is freed next turn.
        var handle = endpoint.LoopHandle;
        if (handle.IsAllocated)
            Post(new ActionWork(handle.Free));
    }

    protected override void WaitAndReceive(int timeoutMs)
    {
        var count = Libc.EpollWait(_epoll, _events, MaxEvents, timeoutMs);
        if (count < 0)
            return; // EINTR: the next turn waits again
        for (var i = 0; i < count; i++)
        {
            var data = *(ulong*)(_events + (i * Libc.EpollEventSize) + Libc.EpollDataOffset);
            if (data == WakeToken)
            {
                ulong value;
                Libc.Read(WakeFd, &value, sizeof(ulong));
                ClearSignal();
                continue;
            }
            if (GCHandle.FromIntPtr((nint)data).Target is UdpEndpoint endpoint)
                ReceiveBurst(endpoint);
        }
    }

    private void ReceiveBurst(UdpEndpoint endpoint)
    {
        var limit = endpoint.MaxDatagramSize + 1;
        if (limit > SlotSize || !Environment.Is64BitProcess) // the structs are LP64's
        {
            ReceiveBurstOneByOne(endpoint);
            return;
        }
        var address = endpoint.ReceiveAddress;
        var received = 0;
        while (received < BurstSize && endpoint.IsOpen)
        {
            for (var i = 0; i < BatchSize; i++)
            {
                _messages[i].Iov->Length = (nuint)limit;
                _messages[i].NameLength = AddressSize;
                _messages[i].Flags = 0;
            }
            var count = Libc.RecvMMsg(endpoint.FileDescriptor, _messages, BatchSize, Libc.MSG_DONTWAIT, null);
            if (count < 0)
            {
                // EAGAIN: empty. Anything else (an ICMP error queued on the socket, EINTR) is
                // consumed by this call; the datagrams behind it are still there.
                if (Marshal.GetLastPInvokeError() == Libc.EAGAIN)
                    return;
                received++;
                continue;
            }
            for (var i = 0; i < count && endpoint.IsOpen; i++)
            {
                ref var message = ref _messages[i];
                var from = new ReadOnlySpan<byte>(message.Name, Math.Min(message.NameLength, address.Buffer.Length));
                from.CopyTo(address.Buffer.Span);
                address.Size = from.Length;
                // A datagram longer than the slot arrives cut to `limit` bytes: Deliver drops it.
                endpoint.Deliver(new Span<byte>(message.Iov->Base, (int)message.Length));
            }
            received += count;
            if (count < BatchSize)
                return; // the socket is (almost surely) empty; level-triggered epoll reports any newcomer
        }
    }

    private void ReceiveBurstOneByOne(UdpEndpoint endpoint)
    {
        var buffer = ReceiveBuffer;
        var address = endpoint.ReceiveAddress;
        var limit = Math.Min(buffer.Length, endpoint.MaxDatagramSize + 1);
        fixed (byte* data = buffer)
        fixed (byte* from = address.Buffer.Span)
        {
            for (var i = 0; i < BurstSize && endpoint.IsOpen; i++)
            {
                var addressLength = address.Buffer.Length;
                var received = Libc.RecvFrom(endpoint.FileDescriptor, data, (nuint)limit, Libc.MSG_DONTWAIT, from, &addressLength);
                if (received < 0)
                {
                    if (Marshal.GetLastPInvokeError() == Libc.EAGAIN)
                        return;
                    continue;
                }
                address.Size = addressLength;
                endpoint.Deliver(buffer.AsSpan(0, (int)received));
            }
        }
    }

    private void Control(int operation, int fd, ulong data)
    {
        var ev = stackalloc byte[16];
        *(uint*)ev = Libc.EPOLLIN;
        *(ulong*)(ev + Libc.EpollDataOffset) = data;
        if (Libc.EpollCtl(_epoll, operation, fd, ev) < 0)
            throw new SocketException(Marshal.GetLastPInvokeError());
    }
}
