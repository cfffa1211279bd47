using System.Diagnostics;

namespace Paperclip.LoadTest;

// Loss: the share of datagrams the impairment proxy drops in each direction (0: no proxy).
internal sealed record ThroughputSettings(int Clients, int Size, bool Reliable, double Seconds, double Warmup, int? Window, bool AllocationProfile = false, double Loss = 0)
{
    /// <summary>
    /// Messages allowed between the sender and the receiver (sent − delivered): enough to cover
    /// every library's batching interval and the loopback RTT, small enough that unreliable
    /// datagrams fit in the 4 MiB socket buffers and reliable backlogs stay bounded in memory.
    /// </summary>
    public int EffectiveWindow => Window ?? (Reliable ? Math.Max(256, (1 << 20) / Size) : Math.Max(64, (256 << 10) / Size));
}

/// <summary>
/// Clients → server as fast as a credit window allows (for a library with a send-buffer limit of
/// its own, reliable messages as fast as it takes them), in one process: one sender thread for
/// every client (round robin, bursts of up to 32), the server counting deliveries on the
/// transport's own receive threads. The figure is messages delivered per second at the server
/// over the measurement window, after a warm-up. With a loss, the clients reach the server
/// through the impairment proxy, which drops that share of datagrams each way.
/// </summary>
internal static class Throughput
{
    public static async Task<Result> RunAsync(ImplSpec spec, ThroughputSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Size < Payload.HeaderSize)
            throw new ArgumentException($"--size must be at least {Payload.HeaderSize} (the timestamp header).");
        if (settings.Reliable && !spec.SupportsReliable)
            throw new NotSupportedException($"{spec.Name} has no reliable delivery.");

        using var pki = spec.Kind == ImplKind.Paperclip ? Pki.Create(settings.Clients) : null;
        using var sink = new Sink();
        var impl = Impls.Create(spec, pki);
        var server = impl.StartServer(sink, settings.Clients + 8);
        var clients = new List<ILoadClient>();
        var proxy = settings.Loss > 0
            ? new Paperclip.Impair.ImpairmentProxy(Paperclip.Impair.ImpairmentSettings.Symmetric(server.EndPoint, new Paperclip.Impair.DirectionSettings { Loss = settings.Loss }, seed: 1))
            : null;
        try
        {
            var target = proxy?.ListenEndPoint ?? server.EndPoint;
            for (var i = 0; i < settings.Clients; i++)
                clients.Add(await impl.ConnectAsync(target, i, manual: false, cancellationToken).ConfigureAwait(false));

            using var sender = new Sender([.. clients], settings.Size, settings.Reliable, settings.EffectiveWindow, sink);
            sender.Start();
            await Task.Delay(TimeSpan.FromSeconds(settings.Warmup), cancellationToken).ConfigureAwait(false);
            using var sampler = settings.AllocationProfile ? new AllocationSampler() : null;
            sampler?.Start();
            var start = Snapshot.Take(sink.Received, sender.Sent);
            sink.StartRecording();
            await Task.Delay(TimeSpan.FromSeconds(settings.Seconds), cancellationToken).ConfigureAwait(false);
            var end = Snapshot.Take(sink.Received, sender.Sent);
            sink.StopRecording();
            sampler?.Stop();
            if (sampler is not null)
                Console.WriteLine(sampler.Report(end.Received - start.Received));
            sender.Stop();

            // Stragglers: wait (bounded) for what is still in flight, so loss counts only what never came.
            var drainUntil = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 2;
            var last = -1L;
            while (sink.Received < sender.Sent && Stopwatch.GetTimestamp() < drainUntil)
            {
                var before = sink.Received;
                if (before == last && !settings.Reliable)
                    break;
                last = before;
                sink.WaitForReceived(sender.Sent, 100);
            }

            var seconds = Snapshot.Seconds(start, end);
            var delivered = end.Received - start.Received;
            var lost = sender.Sent - sink.Received;
            return new Result
            {
                Scenario = "throughput",
                Impl = spec.Name,
                Size = settings.Size,
                Reliable = settings.Reliable,
                Encrypted = spec.Encrypted,
                Clients = settings.Clients,
                LossInjectedPct = settings.Loss > 0 ? settings.Loss * 100 : null,
                MsgsPerS = delivered / seconds,
                MbPerS = delivered * (double)settings.Size / seconds / 1e6,
                LossPct = sender.Sent == 0 ? 0 : Math.Max(0, 100.0 * lost / sender.Sent),
                P50Us = sink.Latency.Percentile(0.50),
                P99Us = sink.Latency.Percentile(0.99),
                ProcessCpuPct = Snapshot.CpuPercent(start, end),
                AllocBytesPerMsg = delivered == 0 ? null : (double)(end.AllocatedBytes - start.AllocatedBytes) / delivered,
                Note = sender.Error is { } error ? "sender failed: " + error.Message
                    : settings.Reliable && lost > 0 ? $"{lost} reliable messages undelivered 2 s after the window; {server.Describe()}; {clients[0].Describe()}"
                    : null,
            };
        }
        finally
        {
            foreach (var client in clients)
                await client.DisposeAsync().ConfigureAwait(false);
            if (proxy is not null)
                await proxy.DisposeAsync().ConfigureAwait(false);
            await server.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The one sending thread. It keeps sent − delivered − written-off below the window; when the
    /// window is full it sleeps until half of it has drained (woken by the sink, never spinning on
    /// a shared core). Unreliable messages that make no progress for 5 ms are written off as lost.
    /// </summary>
    private sealed class Sender : IDisposable
    {
        private const int Burst = 32;
        private const int StallMilliseconds = 5;
        private readonly ILoadClient[] _clients;
        private readonly byte[] _payload;
        private readonly bool _reliable;
        private readonly bool _backpressure;
        private readonly int _window;
        private readonly Sink _sink;
        private readonly Thread _thread;
        private volatile bool _stopping;
        private long _sent;
        private long _writtenOff;

        public Sender(ILoadClient[] clients, int size, bool reliable, int window, Sink sink)
        {
            _clients = clients;
            _payload = Payload.Create(size);
            _reliable = reliable;
            _backpressure = reliable && clients.All(c => c.HasBackpressure);
            _window = window;
            _sink = sink;
            _thread = new Thread(Run) { IsBackground = true, Name = "load sender" };
        }

        public long Sent => Volatile.Read(ref _sent);

        public Exception? Error { get; private set; }

        public void Start() => _thread.Start();

        public void Stop()
        {
            _stopping = true;
            _thread.Join();
        }

        private void Run()
        {
            var sequence = 0;
            var stalledFor = 0;
            var lastReceived = -1L;
            try
            {
                while (!_stopping)
                {
                    if (_backpressure)
                    {
                        SendUntilFull(ref sequence);
                        continue;
                    }
                    for (var i = 0; i < _clients.Length && !_stopping; i++)
                    {
                        var credit = _window - (_sent - _sink.Received - _writtenOff);
                        if (credit <= 0)
                            break;
                        var client = _clients[i];
                        for (var k = Math.Min(credit, Burst); k > 0; k--)
                        {
                            Payload.Stamp(_payload, i, sequence++);
                            client.Send(_payload, _reliable);
                            Volatile.Write(ref _sent, _sent + 1);
                        }
                    }
                    if (_sent - _sink.Received - _writtenOff < _window)
                        continue;
                    // Full window: sleep until half of it has been delivered (at most 1 ms at a time).
                    var received = _sink.Received;
                    if (_sink.WaitForReceived(_sent - _writtenOff - _window / 2, 1) || received != lastReceived)
                    {
                        stalledFor = 0;
                        lastReceived = _sink.Received;
                    }
                    else if (++stalledFor >= StallMilliseconds && !_reliable)
                    {
                        _writtenOff = _sent - _sink.Received;
                        stalledFor = 0;
                    }
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Error = e;
            }
        }

        // The library's send buffer is the window: each client takes bursts until it is full, then
        // the thread waits for that client's buffer to drain to half (one wait per fill: a wait
        // allocates, a message must not).
        private void SendUntilFull(ref int sequence)
        {
            for (var i = 0; i < _clients.Length && !_stopping; i++)
            {
                var client = _clients[i];
                for (var k = 0; k < Burst; k++)
                {
                    Payload.Stamp(_payload, i, sequence);
                    if (!client.TrySendReliable(_payload))
                    {
                        client.WaitWritable(50);
                        break;
                    }
                    sequence++;
                    Volatile.Write(ref _sent, _sent + 1);
                }
            }
        }

        public void Dispose() => _stopping = true;
    }
}
