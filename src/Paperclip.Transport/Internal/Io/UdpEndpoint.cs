using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Paperclip.Transport.Internal.Io;

/// <summary>Where sessions send datagrams.</summary>
internal interface IDatagramSink
{
    void Send(ReadOnlySpan<byte> datagram, SocketAddress to);
}

/// <summary>What an endpoint hands its owner (the client or the server). Loop thread.</summary>
internal interface IDatagramHandler
{
    /// <summary>One received datagram; the span and the address are reused after the call.</summary>
    void OnDatagram(Span<byte> datagram, SocketAddress from);
}

/// <summary>
/// One UDP socket on one <see cref="IoLoop"/> of the shared engine: its datagrams are handled on
/// that loop, and the deadlines of its sessions are kept there — in the loop's own timer queue on
/// the system clock, or in one of the endpoint's own, driven by a timer of the injected
/// <see cref="TimeProvider"/> (a test's fake clock). A send on the loop's thread (a session's
/// flush, a handshake repeat) is kept by the loop and leaves with the turn's others; a send from
/// another thread goes straight to the socket.
/// </summary>
internal sealed partial class UdpEndpoint : IDatagramSink, IAsyncDisposable
{
    private readonly IDatagramHandler _handler;
    private readonly ILogger _logger;
    private readonly ITimer? _providerTimer;
    private readonly RunTimers? _runTimers;
    private int _state; // 0 created, 1 open, 2 closed

    public UdpEndpoint(IPEndPoint bindTo, IDatagramHandler handler, TransportSettings settings, Clock clock, ILogger logger)
        : this(bindTo, handler, settings, clock, logger, loop: null)
    {
    }

    /// <summary>An endpoint on <paramref name="loop"/> rather than the engine's choice (a test's own loop).</summary>
    internal UdpEndpoint(IPEndPoint bindTo, IDatagramHandler handler, TransportSettings settings, Clock clock, ILogger logger, IoLoop? loop)
    {
        _handler = handler;
        _logger = logger;
        Clock = clock;
        MaxDatagramSize = settings.MaxDatagramSize;
        var engine = IoEngine.For(settings.SocketEngine);
        try
        {
            Socket = Open(bindTo, settings.SocketBufferSize);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TooManyOpenSockets)
        {
            throw TooManyOpenFiles(e);
        }
        Loop = loop ?? engine.NextLoop();
        Loop.Reserve();
        LocalEndPoint = (IPEndPoint)Socket.LocalEndPoint!;
        ReceiveAddress = Loop.ReceiveAddressFor(Socket.AddressFamily);
        SendFallbackAddress = new SocketAddress(Socket.AddressFamily);
        FileDescriptor = Loop is NativeLoop ? (int)Socket.SafeHandle.DangerousGetHandle() : -1;
        if (clock.IsSystem)
        {
            Timers = Loop.SystemTimers;
        }
        else
        {
            // Exact on an injected clock: a test that advances it to a deadline sees it served.
            Timers = new TimerQueue();
            _runTimers = new RunTimers(this);
            _providerTimer = clock.Provider.CreateTimer(static state => ((UdpEndpoint)state!).Loop.Post(((UdpEndpoint)state)._runTimers!), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    public Socket Socket { get; }

    public IoLoop Loop { get; }

    public Clock Clock { get; }

    public IPEndPoint LocalEndPoint { get; }

    public AddressFamily AddressFamily => Socket.AddressFamily;

    public int MaxDatagramSize { get; }

    public int FileDescriptor { get; }

    /// <summary>Where the loop writes each received datagram's source: its loop's, for this address family (loop thread).</summary>
    public SocketAddress ReceiveAddress { get; }

    /// <summary>The endpoint's place on an io_uring loop (−1: none). Loop thread.</summary>
    public int LoopRegistration { get; set; } = -1;

    /// <summary>The epoll registration's token (made and freed by the epoll loop; the other engines use none).</summary>
    public GCHandle LoopHandle { get; set; }

    public bool IsOpen => Volatile.Read(ref _state) == 1;

    /// <summary>The deadlines of this endpoint's sessions and handshakes (loop thread).</summary>
    public TimerQueue Timers { get; }

    /// <summary>Starts receiving on the loop.</summary>
    public void Start()
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
            throw new InvalidOperationException("The endpoint was already started.");
        Loop.Register(this);
    }

    /// <summary>Runs <paramref name="work"/> on this endpoint's loop.</summary>
    public void Post(ILoopWork work) => Loop.Post(work);

    /// <summary>Keeps <paramref name="item"/>'s deadline. Loop thread.</summary>
    public void Schedule(ITimed item)
    {
        if (Timers.Schedule(item) && _providerTimer is not null)
            ArmProviderTimer();
    }

    /// <summary>Forgets <paramref name="item"/>'s deadline (it ended). Loop thread.</summary>
    public void Cancel(ITimed item) => Timers.Cancel(item);

    /// <summary>Where this endpoint's datagrams kept by the loop start and end (the loop's slot indices, −1: none). Loop thread.</summary>
    public int QueuedSendsHead { get; set; } = -1;

    /// <inheritdoc cref="QueuedSendsHead"/>
    public int QueuedSendsTail { get; set; } = -1;

    /// <summary>The address of a kept datagram that the loop hands back to <see cref="SendNow"/>. Loop thread.</summary>
    public SocketAddress SendFallbackAddress { get; }

    public void Send(ReadOnlySpan<byte> datagram, SocketAddress to)
    {
        if (Loop.IsCurrent && IsOpen && Loop.TryQueueSend(this, datagram, to))
            return;
        SendNow(datagram, to);
    }

    /// <summary>Sends one datagram with .NET's socket (which waits for room in a full send buffer). Any thread.</summary>
    public void SendNow(ReadOnlySpan<byte> datagram, SocketAddress to)
    {
        try
        {
            Socket.SendTo(datagram, SocketFlags.None, to);
        }
        catch (SocketException e)
        {
            // UDP send errors are transient (buffer full, ICMP feedback); loss is what retransmission is for.
            LogSendFailed(_logger, e.SocketErrorCode);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>A datagram from the socket. Loop thread.</summary>
    public void Deliver(Span<byte> datagram)
    {
        if (datagram.Length > MaxDatagramSize)
            return;
        try
        {
            _handler.OnDatagram(datagram, ReceiveAddress);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A bug on one datagram must not stop the socket; it is logged loudly.
            LogDatagramFailed(_logger, e);
        }
    }

    /// <summary>Stops receiving and closes the socket. Waits for the loop unless called on it.</summary>
    public async ValueTask DisposeAsync()
    {
        var state = Interlocked.Exchange(ref _state, 2);
        if (state == 2)
            return;
        Loop.Release();
        if (state == 0)
        {
            Socket.Dispose();
            return;
        }
        if (_providerTimer is not null)
            await _providerTimer.DisposeAsync().ConfigureAwait(false);
        await Loop.InvokeAsync(() =>
        {
            Loop.Unregister(this);
            Socket.Dispose();
        }).ConfigureAwait(false);
    }

    private void ArmProviderTimer()
    {
        var due = Timers.NextDue;
        var delay = due == long.MaxValue ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(Math.Max(0, due - Clock.NowMilliseconds));
        try
        {
            _providerTimer!.Change(delay, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            return;
        }
        // The clock may have been advanced while the timer was re-armed (FakeTimeProvider's
        // Change is not atomic against Advance, and a timer armed after the advance waits for the
        // next one): if the deadline has passed by now, serve it without the timer.
        if (due <= Clock.NowMilliseconds)
            Loop.Post(_runTimers!);
    }

    private static Socket Open(IPEndPoint bindTo, int bufferSize)
    {
        var socket = new Socket(bindTo.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (bindTo.AddressFamily == AddressFamily.InterNetworkV6)
                socket.DualMode = true;
            socket.ReceiveBufferSize = bufferSize;
            socket.SendBufferSize = bufferSize;
            socket.Bind(bindTo);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A socket that cannot be opened for want of file descriptors gets a message that says so.</summary>
    public static Exception TooManyOpenFiles(SocketException e) =>
        new IOException($"Cannot open another UDP socket: the process's open-files limit ({OpenFilesLimit.Current}) is reached. Raise it (ulimit -n, or LimitNOFILE= in a systemd unit) to hold more lobbies or clients.", e);

    /// <summary>Runs the endpoint's own timer queue on its loop when the injected clock's timer fires.</summary>
    private sealed class RunTimers(UdpEndpoint endpoint) : ILoopWork
    {
        public void RunOnLoop()
        {
            if (!endpoint.IsOpen)
                return;
            endpoint.Timers.RunDue(endpoint.Clock.NowMilliseconds);
            endpoint.ArmProviderTimer();
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "UDP send failed: {Error}")]
    private static partial void LogSendFailed(ILogger logger, SocketError error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Handling a datagram failed")]
    private static partial void LogDatagramFailed(ILogger logger, Exception exception);
}

internal static class SocketAddressExtensions
{
    /// <summary>The endpoint of an address (allocates: for events and logs, not per packet).</summary>
    public static IPEndPoint ToIPEndPoint(this SocketAddress address)
    {
        var endPoint = (IPEndPoint)new IPEndPoint(address.Family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0).Create(address);
        return endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;
    }

    /// <summary>A copy that can be kept as a dictionary key (the receive loop reuses its instance).</summary>
    public static SocketAddress Copy(this SocketAddress address)
    {
        var copy = new SocketAddress(address.Family, address.Size);
        address.Buffer.Span[..address.Size].CopyTo(copy.Buffer.Span);
        return copy;
    }
}
