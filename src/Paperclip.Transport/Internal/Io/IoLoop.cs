using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Paperclip.Transport.Internal.Io;

/// <summary>
/// One I/O thread of the process-wide engine. Every socket registered with it, every session on
/// those sockets and every deadline of theirs runs here, one thing at a time, so the session
/// core needs no lock. A turn: run work posted from other threads, run due timers, flush the
/// sessions that queued output (so a burst of input leaves as few datagrams as it can), hand the
/// datagrams of the turn to the kernel (one sendmmsg per socket on epoll), then wait for
/// readiness, a post, or the next deadline. With nothing to do it sleeps in the kernel.
/// </summary>
internal abstract partial class IoLoop
{
    [ThreadStatic]
    private static IoLoop? t_current;

    private readonly ConcurrentQueue<ILoopWork> _posted = new();
    private readonly List<IFlushable> _dirty = [];
    private readonly List<IFlushable> _flushing = [];
    private readonly Thread _thread;
    private int _signaled;

    protected IoLoop(string name, ILogger logger)
    {
        Logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = name };
    }

    protected ILogger Logger { get; }

    /// <summary>Deadlines on the system clock of everything on this loop.</summary>
    public TimerQueue SystemTimers { get; } = new();

    /// <summary>Sockets placed on this loop and not yet closed.</summary>
    public int SocketCount => Volatile.Read(ref _sockets);

    private int _sockets;

    /// <summary>Counts a socket placed on this loop (until <see cref="Release"/>).</summary>
    public void Reserve() => Interlocked.Increment(ref _sockets);

    /// <summary>A socket of this loop closed.</summary>
    public void Release() => Interlocked.Decrement(ref _sockets);

    /// <summary>True on this loop's own thread.</summary>
    public bool IsCurrent => t_current == this;

    /// <summary>
    /// Where a received datagram's source is written for the handler, one per address family for
    /// every socket of this loop: a handler reads it during its call only, and one shared address
    /// stays in cache where a thousand sockets' own would each be a miss.
    /// </summary>
    public SocketAddress ReceiveAddressFor(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? _receiveAddressV6 : _receiveAddressV4;

    private readonly SocketAddress _receiveAddressV4 = new(AddressFamily.InterNetwork);
    private readonly SocketAddress _receiveAddressV6 = new(AddressFamily.InterNetworkV6);

    /// <summary>The receive buffer every socket of this loop reads into (one thread, one buffer).</summary>
    protected byte[] ReceiveBuffer { get; } = GC.AllocateArray<byte>(65_536, pinned: true);

    public void Start() => _thread.Start();

    /// <summary>Runs <paramref name="work"/> on the loop soon. Any thread.</summary>
    public void Post(ILoopWork work)
    {
        _posted.Enqueue(work);
        if (IsCurrent)
            return; // the turn in progress reaches it
        // A full fence: the loop clears the flag before it drains the queue, so either it sees
        // this work or this post sees the flag clear and wakes it.
        if (Interlocked.CompareExchange(ref _signaled, 1, 0) == 0)
            Wake();
    }

    /// <summary>Runs <paramref name="action"/> on the loop (inline when already there) and completes when it ran.</summary>
    public Task InvokeAsync(Action action)
    {
        if (IsCurrent)
        {
            action();
            return Task.CompletedTask;
        }
        var work = new ActionWork(action);
        Post(work);
        return work.Completion;
    }

    /// <summary>Asks for <see cref="IFlushable.FlushOnLoop"/> at the end of this turn. Loop thread; the caller deduplicates.</summary>
    public void MarkDirty(IFlushable flushable) => _dirty.Add(flushable);

    public abstract void Register(UdpEndpoint endpoint);

    /// <summary>
    /// Keeps a copy of <paramref name="datagram"/> to leave with the others of this turn. Loop
    /// thread. False when this loop does not batch it: the caller sends it now, after what it queued before.
    /// </summary>
    public virtual bool TryQueueSend(UdpEndpoint endpoint, ReadOnlySpan<byte> datagram, SocketAddress to) => false;

    /// <summary>Sends what <see cref="TryQueueSend"/> kept. Loop thread.</summary>
    protected virtual void FlushSends()
    {
    }

    /// <summary>Stops watching the endpoint's socket. Loop thread.</summary>
    public abstract void Unregister(UdpEndpoint endpoint);

    /// <summary>Waits up to <paramref name="timeoutMs"/> (−1: no limit) for readiness or a wake-up and handles the ready sockets.</summary>
    protected abstract void WaitAndReceive(int timeoutMs);

    /// <summary>Interrupts <see cref="WaitAndReceive"/> from another thread.</summary>
    protected abstract void Wake();

    /// <summary>Called by <see cref="WaitAndReceive"/> when woken: the next drain must see every post.</summary>
    protected void ClearSignal() => Interlocked.Exchange(ref _signaled, 0);

    /// <summary>Runs first on the loop's own thread (a ring whose only submitter is that thread is enabled here).</summary>
    protected virtual void OnThreadStarted()
    {
    }

    private void Run()
    {
        t_current = this;
        OnThreadStarted();
        while (true)
        {
            try
            {
                RunTurn();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A bug in one session must not stop every socket on the loop; it is logged loudly.
                LogTurnFailed(Logger, e);
            }
        }
    }

    private void RunTurn()
    {
        while (_posted.TryDequeue(out var work))
        {
            try
            {
                work.RunOnLoop();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogWorkFailed(Logger, e);
            }
        }
        SystemTimers.RunDue(Clock.SystemMilliseconds);
        FlushDirty();
        FlushSends();

        int timeout;
        if (!_posted.IsEmpty)
        {
            timeout = 0;
        }
        else
        {
            var due = SystemTimers.NextDue;
            timeout = due == long.MaxValue ? -1 : (int)Math.Clamp(due - Clock.SystemMilliseconds, 0, int.MaxValue);
        }
        WaitAndReceive(timeout);
    }

    private void FlushDirty()
    {
        // Flushing may mark sessions dirty again (a close flushes its DISCONNECTs): swap lists.
        while (_dirty.Count > 0)
        {
            _flushing.AddRange(_dirty);
            _dirty.Clear();
            try
            {
                foreach (var flushable in _flushing)
                    flushable.FlushOnLoop();
            }
            finally
            {
                _flushing.Clear();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Work posted to an I/O loop failed")]
    private static partial void LogWorkFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "An I/O loop turn failed")]
    private static partial void LogTurnFailed(ILogger logger, Exception exception);
}
