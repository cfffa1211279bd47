using System.Net;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using static Paperclip.Transport.Internal.Io.IoUringNative;

namespace Paperclip.Transport.Internal.Io;

/// <summary>
/// An <see cref="IoLoop"/> on Linux io_uring: each socket has one multishot recvmsg that stays
/// armed, taking its datagrams into buffers the loop provides, and the kernel runs the receives of
/// every socket when the loop waits, so one io_uring_enter per turn hands over the datagrams of all
/// of them. With many sockets that each hold a datagram or two (a host of lobbies), epoll needed a
/// readiness report and a recvmmsg per socket per turn. Wake-ups are a read of an eventfd kept
/// pending on the ring; deadlines are the wait's timeout. Sends made on the loop leave at the end
/// of the turn in one sendmmsg per socket (<see cref="NativeSendBatch"/>).
/// </summary>
internal sealed unsafe partial class IoUringLoop : NativeLoop
{
    // The bytes before a datagram in a provided buffer: struct io_uring_recvmsg_out, then room for
    // the source address (sockaddr_in6 is 28 bytes), so the datagram starts 16-aligned.
    private const int NameRoom = 32;
    private const int HeaderSize = 16 + NameRoom;
    // Default-sized datagrams (1200 B) and the byte that tells an oversize one: 1,024 × 2 KiB per loop.
    private const int SmallBufferSize = 2048;
    private const int SmallBufferCount = 1024;
    // Endpoints allowing datagrams past a small buffer (up to 65,507 B): 16 × 64 KiB, made on first use.
    private const int LargeBufferSize = 65_536 + HeaderSize;
    private const int LargeBufferCount = 16;
    // Completions handled per turn, so that timers and flushes run between floods.
    private const int CompletionsPerTurn = 1024;
    // Consecutive failed receives of one socket after which it is no longer re-armed.
    private const int MaxConsecutiveErrors = 64;

    private const ulong WakeToken = ulong.MaxValue;
    private const ulong IgnoredToken = ulong.MaxValue - 1;
    private const ulong LargeGroupBit = 1ul << 31;

    private readonly IoUringRing _ring;
    private readonly ProvidedBuffers _small;
    private ProvidedBuffers? _large;
    private readonly ulong* _wakeValue;
    private readonly Libc.MMsgHdr* _template;
    // Places in one array of structs: a completion reads its place without touching an object per socket.
    private Registration[] _registrations = new Registration[16];
    private int _registrationCount;
    private readonly Stack<int> _freeRegistrations = new();
    private readonly List<int> _rearm = [];

    public IoUringLoop(string name, ILogger logger, int smallBuffers = SmallBufferCount)
        : base(name, logger, wakeFdFlags: 0) // blocking: io_uring hands a non-blocking fd's EAGAIN back instead of waiting
    {
        _ring = new IoUringRing();
        _small = new ProvidedBuffers(_ring, 0, smallBuffers, SmallBufferSize);
        _wakeValue = (ulong*)NativeMemory.AllocZeroed(sizeof(ulong));
        // What every multishot recvmsg copies at its start: room for the source, no control data.
        _template = (Libc.MMsgHdr*)NativeMemory.AllocZeroed((nuint)sizeof(Libc.MMsgHdr));
        _template->NameLength = NameRoom;
    }

    /// <summary>Times a socket's receive ended because every buffer was taken (it is re-armed once they are back).</summary>
    public long BufferShortfalls => Volatile.Read(ref _bufferShortfalls);

    private long _bufferShortfalls;

    protected override void OnThreadStarted()
    {
        _ring.Enable();
        ArmWake();
    }

    public override void Register(UdpEndpoint endpoint)
    {
        if (IsCurrent)
            RegisterOnLoop(endpoint);
        else
            Post(new ActionWork(() => RegisterOnLoop(endpoint)));
    }

    private void RegisterOnLoop(UdpEndpoint endpoint)
    {
        if (!endpoint.IsOpen)
            return; // closed before its registration ran: its Unregister finds nothing
        var large = endpoint.MaxDatagramSize + 1 > SmallBufferSize - HeaderSize;
        if (large)
            _large ??= new ProvidedBuffers(_ring, 1, LargeBufferCount, LargeBufferSize);
        if (!_freeRegistrations.TryPop(out var index))
        {
            if (_registrationCount == _registrations.Length)
                Array.Resize(ref _registrations, _registrations.Length * 2);
            index = _registrationCount++;
        }
        ref var registration = ref _registrations[index];
        registration.Endpoint = endpoint;
        registration.Large = large;
        registration.ConsecutiveErrors = 0;
        endpoint.LoopRegistration = index;
        Arm(index);
        _ring.Submit(); // now: datagrams already waiting are taken in this turn's wait
    }

    public override void Unregister(UdpEndpoint endpoint)
    {
        // What it sent this turn leaves before the socket closes.
        Sends.Flush(endpoint);
        var index = endpoint.LoopRegistration;
        if (index < 0)
            return;
        endpoint.LoopRegistration = -1;
        ref var registration = ref _registrations[index];
        registration.Endpoint = null;
        if (registration.Armed)
        {
            // Its last completion (cancelled) frees the registration; completions already posted
            // for it find no endpoint and only give their buffers back.
            var sqe = _ring.NextSubmission();
            sqe->Opcode = OpAsyncCancel;
            sqe->Fd = -1;
            sqe->Address = registration.Token(index);
            sqe->UserData = IgnoredToken;
            _ring.Submit();
        }
        else
        {
            Free(index);
        }
    }

    protected override void WaitAndReceive(int timeoutMs)
    {
        _ring.SubmitAndWait(timeoutMs);
        var count = Math.Min(_ring.Pending(out var head), CompletionsPerTurn);
        uint done = 0;
        try
        {
            while (done < count)
            {
                // Copied out, and counted before it is handled: a completion is never handled twice
                // (its buffer given back twice), even if handling it throws.
                var completion = _ring.Completion(head + done);
                done++;
                Complete(completion);
            }
        }
        finally
        {
            _ring.Consume(head + done);
            _small.Publish();
            _large?.Publish();
            foreach (var index in _rearm)
            {
                if (_registrations[index] is { Endpoint: not null, Armed: false })
                    Arm(index);
            }
            _rearm.Clear();
        }
    }

    private void Complete(in Cqe completion)
    {
        if (completion.UserData == WakeToken)
        {
            ClearSignal();
            ArmWake();
            return;
        }
        if (completion.UserData == IgnoredToken)
            return;
        var buffers = (completion.UserData & LargeGroupBit) != 0 ? _large! : _small;
        var hasBuffer = (completion.Flags & CqeBuffer) != 0;
        var bufferId = (ushort)(completion.Flags >> CqeBufferShift);
        var index = (int)(completion.UserData & (LargeGroupBit - 1));
        if (index >= _registrationCount || _registrations[index].Token(index) != completion.UserData)
        {
            if (hasBuffer)
                buffers.Return(bufferId);
            return;
        }
        if (hasBuffer)
        {
            // Read again afterwards: the handler may have registered a socket (and moved the array).
            if (_registrations[index].Endpoint is { IsOpen: true } endpoint && completion.Result >= HeaderSize)
                Deliver(endpoint, buffers[bufferId], completion.Result - HeaderSize);
            buffers.Return(bufferId);
            _registrations[index].ConsecutiveErrors = 0;
        }
        else if (completion.Result == -ENOBUFS)
        {
            _bufferShortfalls++;
        }
        else if (completion.Result < 0 && completion.Result != -ECANCELED)
        {
            // An ICMP error queued on the socket (a refused destination) ends the receive once;
            // the datagrams behind it are still there. Anything that repeats is logged and left.
            _registrations[index].ConsecutiveErrors++;
        }
        if ((completion.Flags & CqeMore) != 0)
            return;
        // The multishot receive ended: out of buffers (re-armed once they are back), an error, or cancelled.
        ref var registration = ref _registrations[index];
        registration.Armed = false;
        if (registration.Endpoint is null)
        {
            Free(index);
        }
        else if (registration.ConsecutiveErrors >= MaxConsecutiveErrors)
        {
            LogReceiveFailing(Logger, registration.Endpoint.LocalEndPoint, -completion.Result);
        }
        else
        {
            _rearm.Add(index);
        }
    }

    private void Deliver(UdpEndpoint endpoint, byte* buffer, int copied)
    {
        var header = (RecvMsgOut*)buffer;
        var address = endpoint.ReceiveAddress;
        var nameLength = (int)Math.Min(header->NameLength, (uint)Math.Min(NameRoom, address.Buffer.Length));
        new ReadOnlySpan<byte>(buffer + 16, nameLength).CopyTo(address.Buffer.Span);
        address.Size = nameLength;
        // A datagram cut to the buffer is longer than the endpoint's limit (the buffer has room
        // for the limit and one byte more): Deliver drops it.
        endpoint.Deliver(new Span<byte>(buffer + HeaderSize, (int)Math.Min(header->PayloadLength, (uint)copied)));
    }

    private void Arm(int index)
    {
        ref var registration = ref _registrations[index];
        var sqe = _ring.NextSubmission();
        sqe->Opcode = OpRecvMsg;
        sqe->Flags = SqeBufferSelect;
        sqe->IoPriority = RecvMultishot;
        sqe->Fd = registration.Endpoint!.FileDescriptor;
        sqe->Address = (ulong)_template;
        sqe->Length = 1;
        sqe->BufferGroup = registration.Large ? _large!.GroupId : _small.GroupId;
        sqe->UserData = registration.Token(index);
        registration.Armed = true;
    }

    private void ArmWake()
    {
        var sqe = _ring.NextSubmission();
        sqe->Opcode = OpRead;
        sqe->Fd = WakeFd;
        sqe->Address = (ulong)_wakeValue;
        sqe->Length = sizeof(ulong);
        sqe->UserData = WakeToken;
    }

    private void Free(int index)
    {
        _registrations[index].Generation++;
        _freeRegistrations.Push(index);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Receiving on {EndPoint} keeps failing (errno {Error}); the socket receives no more")]
    private static partial void LogReceiveFailing(ILogger logger, IPEndPoint endPoint, int error);

    /// <summary>A socket's place on the ring: its completions carry <see cref="Token"/>, which changes with each use of the place.</summary>
    private struct Registration
    {
        public uint Generation;
        public UdpEndpoint? Endpoint;
        public bool Large;
        public bool Armed;
        public int ConsecutiveErrors;

        public readonly ulong Token(int index) => ((ulong)Generation << 32) | (Large ? LargeGroupBit : 0) | (uint)index;
    }
}
