using Microsoft.Extensions.Logging.Abstractions;

namespace Paperclip.Transport.Internal.Io;

/// <summary>
/// The process-wide set of I/O loops that every <see cref="PaperclipServer"/> and
/// <see cref="PaperclipClient"/> shares: one loop per processor (at most 16; the environment
/// variable <c>PAPERCLIP_IO_THREADS</c> sets another number), whatever the number of sockets or
/// sessions. A socket is placed on one loop for its life: the one holding the
/// fewest sockets, so that a server and its client in one process (a test, a benchmark, a
/// listen server) run on two threads, not one. <see cref="SocketEngine.Automatic"/> is io_uring on
/// Linux where the kernel allows it (measured cheaper per datagram, most with many sockets: see
/// docs/performance.md), else epoll; the portable engine elsewhere.
/// </summary>
internal sealed class IoEngine
{
    /// <summary>Overrides <see cref="SocketEngine.Automatic"/> for a whole process (a test run of the fallback).</summary>
    public const string EnvironmentVariable = "PAPERCLIP_SOCKET_ENGINE";

    /// <summary>
    /// Sets the number of loops for a whole process. Fewer loops than processors cost less CPU
    /// when many sockets each carry little (every loop that sleeps is woken apart), at the price
    /// of the parallelism a busy process needs.
    /// </summary>
    public const string ThreadsVariable = "PAPERCLIP_IO_THREADS";

    private static readonly Lock s_lock = new();
    private static IoEngine? s_epoll;
    private static IoEngine? s_portable;
    private static IoEngine? s_ioUring;
    private static IoEngine? s_automatic;

    private readonly IoLoop[] _loops;
    private int _next = -1;

    private IoEngine(SocketEngine kind)
    {
        Kind = kind;
        _loops = new IoLoop[LoopCount(Environment.GetEnvironmentVariable(ThreadsVariable))];
        for (var i = 0; i < _loops.Length; i++)
        {
            var name = $"Paperclip I/O {i}";
            _loops[i] = kind switch
            {
                SocketEngine.Epoll => new EpollLoop(name, NullLogger.Instance),
                SocketEngine.IoUring => new IoUringLoop(name, NullLogger.Instance),
                _ => new PortableLoop(name, NullLogger.Instance),
            };
        }
        // Started once all are made: a loop that cannot be made leaves no thread running.
        foreach (var loop in _loops)
            loop.Start();
    }

    public SocketEngine Kind { get; }

    /// <summary>The shared engine of the given kind, started on first use.</summary>
    public static IoEngine For(SocketEngine requested)
    {
        var kind = Resolve(requested);
        lock (s_lock)
        {
            return kind switch
            {
                SocketEngine.Automatic => s_automatic ??= Automatic(),
                SocketEngine.Epoll => s_epoll ??= new IoEngine(SocketEngine.Epoll),
                SocketEngine.IoUring => s_ioUring ??= new IoEngine(SocketEngine.IoUring),
                _ => s_portable ??= new IoEngine(SocketEngine.Portable),
            };
        }
    }

    /// <summary>The engine <see cref="EnvironmentVariable"/> names: unset or <c>automatic</c>, <c>epoll</c>, <c>io_uring</c>, <c>portable</c>.</summary>
    public static SocketEngine FromEnvironment(string? configured) => configured?.Trim().ToUpperInvariant() switch
    {
        null or "" or "AUTOMATIC" => SocketEngine.Automatic,
        "PORTABLE" => SocketEngine.Portable,
        "EPOLL" => SocketEngine.Epoll,
        "IO_URING" or "IOURING" => SocketEngine.IoUring,
        _ => throw new InvalidOperationException($"{EnvironmentVariable} must be automatic, epoll, io_uring or portable; it is \"{configured}\"."),
    };

    /// <summary>The number of loops: <paramref name="configured"/> (from <see cref="ThreadsVariable"/>) or one per processor.</summary>
    public static int LoopCount(string? configured)
    {
        if (string.IsNullOrWhiteSpace(configured))
            return Math.Clamp(Environment.ProcessorCount, 1, 16);
        if (!int.TryParse(configured.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var count) || count is < 1 or > 64)
            throw new InvalidOperationException($"{ThreadsVariable} must be a whole number from 1 to 64; it is \"{configured}\".");
        return count;
    }

    /// <summary>The loop for a new socket: the least loaded, the next in turn among equals.</summary>
    public IoLoop NextLoop()
    {
        var start = (int)((uint)Interlocked.Increment(ref _next) % (uint)_loops.Length);
        var best = _loops[start];
        for (var i = 1; i < _loops.Length; i++)
        {
            var loop = _loops[(start + i) % _loops.Length];
            if (loop.SocketCount < best.SocketCount)
                best = loop;
        }
        return best;
    }

    /// <summary>On Linux, io_uring where the kernel allows it and its loops can be made (ring memory), else epoll.</summary>
    private static IoEngine Automatic()
    {
        if (IoUringRing.UnavailableReason is null)
        {
            try
            {
                return s_ioUring ??= new IoEngine(SocketEngine.IoUring);
            }
            catch (Exception e) when (e is IOException or PlatformNotSupportedException)
            {
                // Refused past the probe (a memory limit on the rings): epoll does the same work.
            }
        }
        return s_epoll ??= new IoEngine(SocketEngine.Epoll);
    }

    /// <summary>The engine kind to use; <see cref="SocketEngine.Automatic"/> stays so on Linux (see <see cref="Automatic()"/>).</summary>
    public static SocketEngine Resolve(SocketEngine requested)
    {
        if (requested == SocketEngine.Automatic)
            requested = FromEnvironment(Environment.GetEnvironmentVariable(EnvironmentVariable));
        if (requested == SocketEngine.Automatic)
            return OperatingSystem.IsLinux() ? SocketEngine.Automatic : SocketEngine.Portable;
        if (requested == SocketEngine.Epoll && !OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("The epoll socket engine needs Linux; use SocketEngine.Portable or Automatic.");
        if (requested == SocketEngine.IoUring && IoUringRing.UnavailableReason is { } reason)
            throw new PlatformNotSupportedException($"The io_uring socket engine cannot run here: {reason}. Use SocketEngine.Epoll or Automatic.");
        return requested;
    }
}

/// <summary>
/// The process's open-files limit, which bounds how many sockets (lobbies, clients) it can hold.
/// .NET raises the soft limit to the hard one when the process starts (Linux); past that, only
/// the operator can raise it, and a socket that cannot be opened says so.
/// </summary>
internal static unsafe class OpenFilesLimit
{
    /// <summary>The current soft limit, or −1 where it cannot be read.</summary>
    public static long Current
    {
        get
        {
            if (!OperatingSystem.IsLinux())
                return -1;
            Libc.RLimit limit;
            return Libc.GetRLimit(Libc.RLIMIT_NOFILE, &limit) == 0 ? (long)limit.Current : -1;
        }
    }
}
