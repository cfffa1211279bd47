using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Paperclip.Impair;

/// <summary>
/// A UDP relay that impairs traffic between clients and one server. Each client address gets
/// its own upstream socket, so the server sees one address per client, as it would without
/// the proxy. Every decision (loss, burst, duplicate, reorder, corrupt, delay) comes from a
/// seeded generator per direction: the same seed gives the same sequence of decisions for the
/// same sequence of datagrams in a direction.
/// </summary>
public sealed class ImpairmentProxy : IAsyncDisposable
{
    private readonly ImpairmentSettings _settings;
    private readonly Socket _listen;
    private readonly ConcurrentDictionary<IPEndPoint, Flow> _flows = new();
    private readonly Impairer _up;
    private readonly Impairer _down;
    private readonly Scheduler _scheduler = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private readonly Lock _loopsLock = new();
    private readonly long _startedTimestamp = Stopwatch.GetTimestamp();

    /// <summary>Binds the listening socket and starts relaying.</summary>
    public ImpairmentProxy(ImpairmentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Up.Validate("up");
        settings.Down.Validate("down");
        _settings = settings;
        _up = new Impairer(settings.Up, settings.Seed * 2 + 1, UpStatistics, this);
        _down = new Impairer(settings.Down, settings.Seed * 2 + 2, DownStatistics, this);
        _listen = NewSocket(settings.Listen);
        ListenEndPoint = (IPEndPoint)_listen.LocalEndPoint!;
        StartLoop(ListenLoopAsync);
    }

    /// <summary>Where clients send.</summary>
    public IPEndPoint ListenEndPoint { get; }

    /// <summary>The server.</summary>
    public IPEndPoint Target => _settings.Target;

    /// <summary>Counters of the client-to-server direction.</summary>
    public DirectionStatistics UpStatistics { get; } = new();

    /// <summary>Counters of the server-to-client direction.</summary>
    public DirectionStatistics DownStatistics { get; } = new();

    /// <summary>Client addresses seen so far, each with the address the server sees for it.</summary>
    public IReadOnlyList<(IPEndPoint Client, IPEndPoint Upstream)> Flows =>
        _flows.Select(f => (f.Key, f.Value.UpstreamEndPoint)).ToArray();

    /// <summary>
    /// Called with every datagram as it arrives, before any impairment (on a receive thread):
    /// the direction, the client's address and the bytes. For tests that capture packets.
    /// </summary>
    public Action<Direction, IPEndPoint, ReadOnlyMemory<byte>>? Observer { get; set; }

    /// <summary>Drops everything in both directions from now for <paramref name="duration"/>.</summary>
    public void Blackhole(TimeSpan duration)
    {
        var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        _up.BlackholeUntil(until);
        _down.BlackholeUntil(until);
    }

    /// <summary>Sends a datagram to the server from a client's upstream socket, unimpaired (as if the client sent it).</summary>
    public void InjectToServer(IPEndPoint client, ReadOnlySpan<byte> datagram)
    {
        if (!_flows.TryGetValue(client, out var flow))
            throw new InvalidOperationException($"No client {client} has sent through the proxy.");
        SendQuietly(flow.Socket, datagram, _settings.Target);
    }

    /// <summary>Sends a datagram to a client from the proxy's address, unimpaired (as if the server sent it).</summary>
    public void InjectToClient(IPEndPoint client, ReadOnlySpan<byte> datagram) => SendQuietly(_listen, datagram, client);

    /// <summary>Stops relaying and closes every socket.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
            return;
        await _stop.CancelAsync().ConfigureAwait(false);
        _scheduler.Dispose();
        _listen.Dispose();
        foreach (var flow in _flows.Values)
            flow.Socket.Dispose();
        Task[] loops;
        lock (_loopsLock)
            loops = [.. _loops];
        await Task.WhenAll(loops).ConfigureAwait(false);
        _stop.Dispose();
    }

    internal long ElapsedTimestamp(long now) => now - _startedTimestamp;

    private void StartLoop(Func<Task> loop)
    {
        lock (_loopsLock)
            _loops.Add(Task.Run(loop));
    }

    private Socket NewSocket(IPEndPoint bindTo)
    {
        var socket = new Socket(bindTo.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.ReceiveBufferSize = _settings.SocketBufferSize;
        socket.SendBufferSize = _settings.SocketBufferSize;
        if (OperatingSystem.IsWindows())
            socket.IOControl(-1744830452 /* SIO_UDP_CONNRESET */, [0, 0, 0, 0], null);
        socket.Bind(bindTo);
        return socket;
    }

    private async Task ListenLoopAsync()
    {
        var buffer = GC.AllocateArray<byte>(65536, pinned: true);
        EndPoint any = new IPEndPoint(_settings.Listen.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult result;
            try
            {
                result = await _listen.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            var client = (IPEndPoint)result.RemoteEndPoint;
            var flow = _flows.GetOrAdd(client, CreateFlow);
            var datagram = buffer.AsMemory(0, result.ReceivedBytes);
            Observer?.Invoke(Direction.Up, client, datagram);
            _up.Process(datagram.Span, flow.Socket, _settings.Target);
        }
    }

    private Flow CreateFlow(IPEndPoint client)
    {
        var local = new IPEndPoint(_settings.Target.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback, 0);
        if (!IPAddress.IsLoopback(_settings.Target.Address))
            local = new IPEndPoint(_settings.Target.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        var socket = NewSocket(local);
        var flow = new Flow(client, socket, (IPEndPoint)socket.LocalEndPoint!);
        StartLoop(() => FlowLoopAsync(flow));
        return flow;
    }

    private async Task FlowLoopAsync(Flow flow)
    {
        var buffer = GC.AllocateArray<byte>(65536, pinned: true);
        EndPoint any = new IPEndPoint(_settings.Target.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult result;
            try
            {
                result = await flow.Socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            if (!result.RemoteEndPoint.Equals(_settings.Target))
                continue; // only the server talks to an upstream socket
            var datagram = buffer.AsMemory(0, result.ReceivedBytes);
            Observer?.Invoke(Direction.Down, flow.Client, datagram);
            _down.Process(datagram.Span, _listen, flow.Client);
        }
    }

    internal void Schedule(long dueTimestamp, Socket socket, byte[] rented, int length, EndPoint to) =>
        _scheduler.Add(dueTimestamp, new Scheduled(socket, rented, length, to));

    internal static void SendQuietly(Socket socket, ReadOnlySpan<byte> datagram, EndPoint to)
    {
        try
        {
            socket.SendTo(datagram, SocketFlags.None, to);
        }
        catch (SocketException)
        {
            // Loss is what this tool is about; a refused send is one more.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private sealed record Flow(IPEndPoint Client, Socket Socket, IPEndPoint UpstreamEndPoint);

    internal readonly record struct Scheduled(Socket Socket, byte[] Rented, int Length, EndPoint To);

    /// <summary>Sends delayed datagrams when they are due, from one thread.</summary>
    private sealed class Scheduler : IDisposable
    {
        private readonly PriorityQueue<Scheduled, (long Due, long Order)> _queue = new();
        private readonly Lock _lock = new();
        private readonly AutoResetEvent _wake = new(false);
        private readonly Thread _thread;
        private long _order;
        private volatile bool _stopped;

        public Scheduler()
        {
            _thread = new Thread(Run) { IsBackground = true, Name = "Impairment scheduler" };
            _thread.Start();
        }

        public void Add(long due, Scheduled item)
        {
            bool earliest;
            lock (_lock)
            {
                earliest = !_queue.TryPeek(out _, out var head) || due < head.Due;
                _queue.Enqueue(item, (due, _order++));
            }
            if (earliest)
                _wake.Set();
        }

        private void Run()
        {
            while (!_stopped)
            {
                Scheduled item;
                long wait;
                lock (_lock)
                {
                    if (!_queue.TryPeek(out item, out var head))
                    {
                        wait = -1;
                    }
                    else
                    {
                        var now = Stopwatch.GetTimestamp();
                        wait = head.Due <= now ? 0 : Math.Max(1, (head.Due - now) * 1000 / Stopwatch.Frequency);
                        if (wait == 0)
                            _queue.Dequeue();
                    }
                }
                if (wait == 0)
                {
                    SendQuietly(item.Socket, item.Rented.AsSpan(0, item.Length), item.To);
                    ArrayPool<byte>.Shared.Return(item.Rented);
                    continue;
                }
                _wake.WaitOne(wait < 0 ? Timeout.Infinite : (int)Math.Min(wait, int.MaxValue));
            }
        }

        public void Dispose()
        {
            _stopped = true;
            _wake.Set();
            _thread.Join();
            _wake.Dispose();
        }
    }
}

/// <summary>Counters of one direction (read from any thread).</summary>
public sealed class DirectionStatistics
{
    internal long _received;
    internal long _forwarded;
    internal long _lost;
    internal long _blackholed;
    internal long _duplicated;
    internal long _reordered;
    internal long _corrupted;

    /// <summary>Datagrams that arrived at the proxy.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Datagrams sent on (duplicates included).</summary>
    public long Forwarded => Interlocked.Read(ref _forwarded);

    /// <summary>Datagrams lost on purpose (bursts included).</summary>
    public long Lost => Interlocked.Read(ref _lost);

    /// <summary>Datagrams dropped by a blackhole.</summary>
    public long Blackholed => Interlocked.Read(ref _blackholed);

    /// <summary>Extra copies sent.</summary>
    public long Duplicated => Interlocked.Read(ref _duplicated);

    /// <summary>Datagrams held back so that later ones overtake them.</summary>
    public long Reordered => Interlocked.Read(ref _reordered);

    /// <summary>Datagrams with a changed byte.</summary>
    public long Corrupted => Interlocked.Read(ref _corrupted);

    /// <inheritdoc />
    public override string ToString() =>
        $"received {Received}, forwarded {Forwarded}, lost {Lost} ({(Received == 0 ? 0 : 100.0 * Lost / Received):F1} %), blackholed {Blackholed}, duplicated {Duplicated}, reordered {Reordered}, corrupted {Corrupted}";
}

/// <summary>The decisions of one direction, from its own seeded generator.</summary>
internal sealed class Impairer(DirectionSettings settings, int seed, DirectionStatistics statistics, ImpairmentProxy proxy)
{
    private readonly Random _random = new(seed);
    private readonly Lock _lock = new();
    private readonly double _burstStart = settings.BurstStartProbability;
    private int _burstLeft;
    private long _blackholeUntil;

    public void BlackholeUntil(long timestamp) => Interlocked.Exchange(ref _blackholeUntil, timestamp);

    public void Process(ReadOnlySpan<byte> datagram, Socket via, EndPoint to)
    {
        Interlocked.Increment(ref statistics._received);
        var now = Stopwatch.GetTimestamp();
        if (InBlackhole(now))
        {
            Interlocked.Increment(ref statistics._blackholed);
            return;
        }

        bool lose, duplicate, reorder, corrupt;
        int corruptAt = 0;
        byte corruptWith = 0;
        long delay1, delay2;
        lock (_lock)
        {
            if (_burstLeft > 0)
            {
                _burstLeft--;
                lose = true;
            }
            else if (_burstStart > 0 && _random.NextDouble() < _burstStart)
            {
                _burstLeft = Math.Max(1, settings.BurstLength) - 1;
                lose = true;
            }
            else
            {
                lose = false;
            }
            duplicate = settings.Duplicate > 0 && _random.NextDouble() < settings.Duplicate;
            reorder = settings.Reorder > 0 && _random.NextDouble() < settings.Reorder;
            corrupt = settings.Corrupt > 0 && datagram.Length > 0 && _random.NextDouble() < settings.Corrupt;
            if (corrupt)
            {
                corruptAt = _random.Next(datagram.Length);
                corruptWith = (byte)_random.Next(1, 256);
            }
            delay1 = NextDelay(reorder);
            delay2 = NextDelay(false);
        }
        if (lose)
        {
            Interlocked.Increment(ref statistics._lost);
            return;
        }
        if (reorder)
            Interlocked.Increment(ref statistics._reordered);
        if (corrupt)
            Interlocked.Increment(ref statistics._corrupted);
        Send(datagram, via, to, now, delay1, corrupt, corruptAt, corruptWith);
        if (duplicate)
        {
            Interlocked.Increment(ref statistics._duplicated);
            Send(datagram, via, to, now, delay2, corrupt, corruptAt, corruptWith);
        }
    }

    private bool InBlackhole(long now)
    {
        if (now < Interlocked.Read(ref _blackholeUntil))
            return true;
        if (settings.BlackholeFor <= TimeSpan.Zero)
            return false;
        var elapsed = proxy.ElapsedTimestamp(now);
        var start = (long)(settings.BlackholeAfter.TotalSeconds * Stopwatch.Frequency);
        return elapsed >= start && elapsed < start + (long)(settings.BlackholeFor.TotalSeconds * Stopwatch.Frequency);
    }

    // Under _lock. In Stopwatch ticks.
    private long NextDelay(bool reorder)
    {
        if (!settings.Delays)
            return 0;
        var ms = settings.Delay.TotalMilliseconds + (settings.Jitter.TotalMilliseconds * (_random.NextDouble() * 2 - 1));
        if (reorder)
            ms += settings.ReorderDelay.TotalMilliseconds;
        return (long)(Math.Max(0, ms) / 1000 * Stopwatch.Frequency);
    }

    private void Send(ReadOnlySpan<byte> datagram, Socket via, EndPoint to, long now, long delay, bool corrupt, int corruptAt, byte corruptWith)
    {
        Interlocked.Increment(ref statistics._forwarded);
        if (delay <= 0 && !corrupt)
        {
            ImpairmentProxy.SendQuietly(via, datagram, to);
            return;
        }
        var copy = ArrayPool<byte>.Shared.Rent(datagram.Length);
        datagram.CopyTo(copy);
        if (corrupt)
            copy[corruptAt] ^= corruptWith;
        if (delay <= 0)
        {
            ImpairmentProxy.SendQuietly(via, copy.AsSpan(0, datagram.Length), to);
            ArrayPool<byte>.Shared.Return(copy);
            return;
        }
        proxy.Schedule(now + delay, via, copy, datagram.Length, to);
    }
}
