using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Paperclip.Transport.Internal;

/// <summary>Where sessions send datagrams and ask to be flushed.</summary>
internal interface IDatagramSink
{
    void Send(ReadOnlySpan<byte> datagram, SocketAddress to);

    void RequestFlush(Session session);
}

/// <summary>What a <see cref="UdpTransport"/> hands its owner (the client or the server).</summary>
internal interface IDatagramHandler
{
    /// <summary>One received datagram; the span is reused after the call. Receive loop.</summary>
    void OnDatagram(Span<byte> datagram, SocketAddress from);

    /// <summary>A timer tick. Timer thread; never overlaps itself.</summary>
    void OnTick(long nowMilliseconds);
}

/// <summary>
/// One UDP socket with one receive loop (a thread receiving into a reused buffer and
/// <see cref="SocketAddress"/>), one flusher thread that coalesces and sends what sessions
/// queued, and one timer for retransmissions, heartbeats and timeouts. No thread per peer.
/// </summary>
internal sealed partial class UdpTransport : IDatagramSink, IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly IDatagramHandler _handler;
    private readonly PaperclipOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentQueue<Session> _flushQueue = new();
    private readonly SemaphoreSlim _flushSignal = new(0);
    private readonly Thread _flusher;
    private ITimer? _timer;
    private Thread? _ticker;
    private readonly Thread _receiver;
    private int _flushSignaled;
    private int _ticking;

    public UdpTransport(IPEndPoint bindTo, IDatagramHandler handler, PaperclipOptions options, Clock clock, ILogger logger)
    {
        _handler = handler;
        _options = options;
        _logger = logger;
        Clock = clock;
        _socket = new Socket(bindTo.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        if (bindTo.AddressFamily == AddressFamily.InterNetworkV6)
            _socket.DualMode = true;
        _socket.ReceiveBufferSize = options.SocketBufferSize;
        _socket.SendBufferSize = options.SocketBufferSize;
        _socket.Bind(bindTo);
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _flusher = new Thread(FlushLoop) { IsBackground = true, Name = $"Paperclip flusher {LocalEndPoint}" };
        _receiver = new Thread(ReceiveLoop) { IsBackground = true, Name = $"Paperclip receiver {LocalEndPoint}" };
    }

    public IPEndPoint LocalEndPoint { get; }

    public AddressFamily AddressFamily => _socket.AddressFamily;

    public Clock Clock { get; }

    /// <summary>Datagrams that failed to send (the kernel refused them).</summary>
    public long SendErrors => Interlocked.Read(ref _sendErrors);
    private long _sendErrors;

    public void Start()
    {
        _flusher.Start();
        _receiver.Start();
        // On the system clock a thread of our own sleeps between ticks: a thread-pool timer wakes a
        // pool worker per tick, which then spins looking for more work (the profile of an idle-ish
        // 200-client server: most of its CPU). An injected clock drives its own timer.
        if (Clock.Provider == TimeProvider.System)
        {
            _ticker = new Thread(TickLoop) { IsBackground = true, Name = $"Paperclip timer {LocalEndPoint}" };
            _ticker.Start();
        }
        else
        {
            _timer = Clock.Provider.CreateTimer(_ => Tick(), null, _options.TimerResolution, _options.TimerResolution);
        }
    }

    private void TickLoop()
    {
        var stopping = _stopping.Token.WaitHandle;
        try
        {
            while (!stopping.WaitOne(_options.TimerResolution))
                Tick();
        }
        catch (ObjectDisposedException)
        {
            // disposed from this very thread, by an event handler
        }
    }

    public void Send(ReadOnlySpan<byte> datagram, SocketAddress to)
    {
        try
        {
            _socket.SendTo(datagram, SocketFlags.None, to);
        }
        catch (SocketException e)
        {
            // UDP send errors are transient (buffer full, ICMP feedback); loss is what retransmission is for.
            Interlocked.Increment(ref _sendErrors);
            LogSendFailed(_logger, e.SocketErrorCode);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void RequestFlush(Session session)
    {
        _flushQueue.Enqueue(session);
        if (Interlocked.Exchange(ref _flushSignaled, 1) == 0)
            _flushSignal.Release();
    }

    private void FlushLoop()
    {
        var scratch = GC.AllocateArray<byte>(_options.MaxDatagramSize, pinned: true);
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                _flushSignal.Wait();
            }
            catch (ObjectDisposedException)
            {
                return; // disposed from this very thread, by an event handler
            }
            // A full fence, not a release store: the queue must be read after the flag is clear,
            // or a request enqueued meanwhile sees the flag still set and nobody flushes it.
            Interlocked.Exchange(ref _flushSignaled, 0);
            while (_flushQueue.TryDequeue(out var session))
            {
                try
                {
                    session.Flush(scratch);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    LogFlushFailed(_logger, e);
                }
            }
        }
    }

    // A blocking receive on a dedicated thread: the kernel wakes this thread directly, where an
    // awaited ReceiveFromAsync costs an epoll wake-up and a thread-pool hop per datagram (the
    // profile in docs/performance.md: most of an idle-ish server's CPU went there).
    private void ReceiveLoop()
    {
        // One byte more than the largest datagram accepted, to recognise oversized ones.
        var buffer = GC.AllocateArray<byte>(_options.MaxDatagramSize + 1, pinned: true);
        var from = new SocketAddress(_socket.AddressFamily);
        while (!_stopping.IsCancellationRequested)
        {
            int received;
            try
            {
                received = _socket.ReceiveFrom(buffer, SocketFlags.None, from);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionRefused or SocketError.MessageSize or SocketError.HostUnreachable or SocketError.NetworkUnreachable)
            {
                continue;
            }
            if (received > _options.MaxDatagramSize)
                continue;
            try
            {
                _handler.OnDatagram(buffer.AsSpan(0, received), from);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A bug on one datagram must not stop the socket; it is logged loudly.
                LogDatagramFailed(_logger, e);
            }
        }
    }

    private void Tick()
    {
        if (Interlocked.Exchange(ref _ticking, 1) != 0)
            return;
        try
        {
            _handler.OnTick(Clock.NowMilliseconds);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogTickFailed(_logger, e);
        }
        finally
        {
            Volatile.Write(ref _ticking, 0);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
            return;
        _stopping.Cancel();
        if (_timer is not null)
            await _timer.DisposeAsync().ConfigureAwait(false);
        _flushSignal.Release();
        // Disposing from an event handler runs on one of these threads: it must not wait for itself.
        if (_ticker is not null)
            JoinUnlessCurrent(_ticker);
        JoinUnlessCurrent(_flusher);
        _socket.Dispose();
        JoinUnlessCurrent(_receiver);
        _stopping.Dispose();
        _flushSignal.Dispose();
    }

    private static void JoinUnlessCurrent(Thread thread)
    {
        if (thread.IsAlive && thread != Thread.CurrentThread)
            thread.Join();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "UDP send failed: {Error}")]
    private static partial void LogSendFailed(ILogger logger, SocketError error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Flushing a session failed")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Handling a datagram failed")]
    private static partial void LogDatagramFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Timer tick failed")]
    private static partial void LogTickFailed(ILogger logger, Exception exception);
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
        address.Buffer.CopyTo(copy.Buffer);
        return copy;
    }
}
