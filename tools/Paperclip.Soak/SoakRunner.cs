using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Paperclip.Protocol;
using Paperclip.Protocol.Certificates;
using Paperclip.Transport;

namespace Paperclip.Soak;

/// <summary>What a soak run does.</summary>
public sealed record SoakOptions
{
    /// <summary>Clients connected at any time.</summary>
    public int Clients { get; init; } = 500;

    /// <summary>How long the traffic runs.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Fraction of the clients that leave and are replaced by new ones each second.</summary>
    public double ChurnPerSecond { get; init; } = 0.02;

    /// <summary>Messages each client sends per second, each way, half RELIABLE and half not.</summary>
    public double MessagesPerSecond { get; init; } = 4;

    /// <summary>Largest message (sizes are random up to it; a few fragment).</summary>
    public int MaxMessageSize { get; init; } = 4000;

    /// <summary>Seed of the traffic's random choices.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Progress lines (may be null).</summary>
    public Action<string>? Progress { get; init; }
}

/// <summary>The figures of a soak run; <see cref="Problems"/> is empty when it passed.</summary>
public sealed record SoakResult
{
    public required int Connects { get; init; }
    public required int Disconnects { get; init; }
    public required long ReliableSent { get; init; }
    public required long ReliableDelivered { get; init; }
    public required long UnreliableSent { get; init; }
    public required long UnreliableDelivered { get; init; }
    public required long Duplicates { get; init; }
    public required long Corrupted { get; init; }
    public required long HeapStartBytes { get; init; }
    public required long HeapEndBytes { get; init; }
    public required long HeapAfterTeardownBytes { get; init; }
    public required long HeapBeforeBytes { get; init; }
    public required IReadOnlyList<long> HeapSamples { get; init; }
    public required int SessionsAfterTeardown { get; init; }
    public required int PendingAfterTeardown { get; init; }
    public required TimeSpan Elapsed { get; init; }
    public required IReadOnlyList<string> Problems { get; init; }

    public override string ToString() =>
        $"{Elapsed.TotalSeconds:F0} s: {Connects} connects, {Disconnects} disconnects; reliable {ReliableDelivered}/{ReliableSent} delivered, {Duplicates} duplicates, {Corrupted} corrupted; " +
        $"unreliable {UnreliableDelivered}/{UnreliableSent}; heap (after full GC) {HeapBeforeBytes / 1e6:F1} MB before, {HeapStartBytes / 1e6:F1} MB at start, {HeapEndBytes / 1e6:F1} MB at end " +
        $"(samples {string.Join(" ", HeapSamples.Select(h => (h / 1e6).ToString("F1", System.Globalization.CultureInfo.InvariantCulture)))}), {HeapAfterTeardownBytes / 1e6:F1} MB after teardown; " +
        $"sessions left {SessionsAfterTeardown}, pending {PendingAfterTeardown}; problems: {(Problems.Count == 0 ? "none" : string.Join("; ", Problems.Take(10)))}";
}

/// <summary>
/// Runs one server and <see cref="SoakOptions.Clients"/> clients on loopback: clients connect,
/// send and receive RELIABLE and unreliable messages of random sizes, and some leave and are
/// replaced every second. Checks: every RELIABLE message to or from a client that stayed is
/// delivered exactly once and intact; nothing logs an error and no session ends unasked; the
/// managed heap after a full GC is as large at the end as at the start; after every client
/// left, the server holds no session and no handshake.
/// </summary>
public sealed class SoakRunner
{
    private readonly SoakOptions _options;
    private readonly ConcurrentQueue<string> _problems = new();
    private readonly ConcurrentDictionary<(int Client, long Index, bool Up), byte[]> _expected = new();
    private long _reliableSent;
    private long _reliableDelivered;
    private long _unreliableSent;
    private long _unreliableDelivered;
    private long _duplicates;
    private long _corrupted;
    private int _nextClientId;

    public SoakRunner(SoakOptions options) => _options = options;

    public async Task<SoakResult> RunAsync(CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        var heapBefore = Heap();
        using var serverKey = AccountKey.Generate();
        var validator = new KnownKeysCertificateValidator();
        var logs = new ProblemLogger(_problems);
        var server = new PaperclipServer(new PaperclipServerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            Certificate = ServerCertificate.Create(serverKey, DateTimeOffset.UtcNow.AddMinutes(-5), TimeSpan.FromDays(1)),
            PrivateKey = serverKey,
            CertificateValidator = validator,
            MaxClients = _options.Clients * 2 + 16,
        }, logs.For<PaperclipServer>());
        var serverPublicKey = AccountKey.ExportPublicKey(serverKey);
        var connections = new ConcurrentDictionary<long, PaperclipConnection>();
        server.ClientJoined += (_, e) => connections[e.Connection.AccountId] = e.Connection;
        server.ClientLeft += (_, e) =>
        {
            connections.TryRemove(e.Connection!.AccountId, out PaperclipConnection? _);
            if (e.Reason != DisconnectReason.ClientDisconnect && !_stopping)
                _problems.Enqueue($"server: client {e.Connection!.AccountId} left with {e.Reason} ({e.Text})");
        };
        server.ErrorReceived += (_, e) => _problems.Enqueue($"server: error from client {e.Connection?.AccountId}: {e.Code} {e.Text}");
        server.DataReceived += (connection, data, flags) => OnData((int)connection.AccountId, data, flags, up: true);
        server.Start();

        var clients = new SoakClient?[_options.Clients];
        var random = new Random(_options.Seed);
        var heapSamples = new List<long>();
        int connects = 0, disconnects = 0;
        long heapStart;
        try
        {
            // Connect everyone, a few at a time.
            await Parallel.ForAsync(0, clients.Length, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (i, token) =>
            {
                clients[i] = await ConnectAsync(server, validator, serverPublicKey, logs, token).ConfigureAwait(false);
                Interlocked.Increment(ref connects);
            }).ConfigureAwait(false);
            heapStart = Heap();
            _options.Progress?.Invoke($"{clients.Length} clients connected in {stopwatch.Elapsed.TotalSeconds:F1} s; heap {heapStart / 1e6:F1} MB");

            var tick = TimeSpan.FromMilliseconds(100);
            var traffic = Stopwatch.StartNew();
            var nextSample = TimeSpan.Zero;
            var sampleEvery = TimeSpan.FromTicks(Math.Max(_options.Duration.Ticks / 10, TimeSpan.FromSeconds(1).Ticks));
            var churn = 0.0;
            var sends = 0.0;
            while (traffic.Elapsed < _options.Duration)
            {
                cancellationToken.ThrowIfCancellationRequested();
                // Churn: some clients leave, new ones take their place.
                churn += _options.ChurnPerSecond * clients.Length * tick.TotalSeconds;
                for (; churn >= 1; churn--)
                {
                    var slot = random.Next(clients.Length);
                    var leaving = clients[slot];
                    clients[slot] = null;
                    if (leaving is not null)
                    {
                        await leaving.DisposeAsync().ConfigureAwait(false);
                        Interlocked.Increment(ref disconnects);
                    }
                    clients[slot] = await ConnectAsync(server, validator, serverPublicKey, logs, cancellationToken).ConfigureAwait(false);
                    Interlocked.Increment(ref connects);
                }
                // Traffic both ways.
                sends += _options.MessagesPerSecond * clients.Length * tick.TotalSeconds;
                for (; sends >= 1; sends--)
                {
                    var client = clients[random.Next(clients.Length)];
                    if (client is null)
                        continue;
                    var reliable = random.Next(2) == 0;
                    var size = random.Next(16, _options.MaxMessageSize + 1);
                    Send(client, reliable, size, random, up: true, null);
                    if (connections.TryGetValue(client.Id, out var connection))
                        Send(client, reliable, size, random, up: false, connection);
                }
                if (traffic.Elapsed >= nextSample)
                {
                    nextSample += sampleEvery;
                    var heap = Heap();
                    heapSamples.Add(heap);
                    _options.Progress?.Invoke($"{traffic.Elapsed.TotalSeconds:F0} s: {server.ConnectionCount} sessions, heap {heap / 1e6:F1} MB, reliable {Interlocked.Read(ref _reliableDelivered)}/{Interlocked.Read(ref _reliableSent)}, {connects} connects, problems {_problems.Count}");
                }
                await Task.Delay(tick, cancellationToken).ConfigureAwait(false);
            }

            // Drain: every RELIABLE message of a client still here arrives.
            var drainUntil = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!_expected.IsEmpty && DateTime.UtcNow < drainUntil)
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            foreach (var missing in _expected.Keys.Take(5))
                _problems.Enqueue($"reliable message {missing.Index} {(missing.Up ? "from" : "to")} client {missing.Client} never arrived");
            if (_expected.Count > 5)
                _problems.Enqueue($"{_expected.Count} reliable messages never arrived in all");
        }
        finally
        {
            foreach (var client in clients)
            {
                if (client is not null)
                {
                    await client.DisposeAsync().ConfigureAwait(false);
                    Interlocked.Increment(ref disconnects);
                }
            }
        }
        var heapEnd = heapSamples.Count > 0 ? heapSamples[^1] : Heap();
        var settle = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((server.ConnectionCount > 0 || server.PendingHandshakeCount > 0) && DateTime.UtcNow < settle)
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        var sessionsLeft = server.ConnectionCount;
        var pendingLeft = server.PendingHandshakeCount;
        if (sessionsLeft > 0 || pendingLeft > 0)
            _problems.Enqueue($"after every client left the server still holds {sessionsLeft} sessions and {pendingLeft} handshakes");
        _stopping = true;
        await server.DisposeAsync().ConfigureAwait(false);
        connections.Clear();
        var heapAfter = Heap();
        return new SoakResult
        {
            Connects = connects,
            Disconnects = disconnects,
            ReliableSent = Interlocked.Read(ref _reliableSent),
            ReliableDelivered = Interlocked.Read(ref _reliableDelivered),
            UnreliableSent = Interlocked.Read(ref _unreliableSent),
            UnreliableDelivered = Interlocked.Read(ref _unreliableDelivered),
            Duplicates = Interlocked.Read(ref _duplicates),
            Corrupted = Interlocked.Read(ref _corrupted),
            HeapBeforeBytes = heapBefore,
            HeapStartBytes = heapStart,
            HeapEndBytes = heapEnd,
            HeapAfterTeardownBytes = heapAfter,
            HeapSamples = heapSamples,
            SessionsAfterTeardown = sessionsLeft,
            PendingAfterTeardown = pendingLeft,
            Elapsed = stopwatch.Elapsed,
            Problems = [.. _problems],
        };
    }

    private volatile bool _stopping;
    private readonly ConcurrentDictionary<int, bool> _gone = new();

    private static long Heap() => GC.GetTotalMemory(forceFullCollection: true);

    private async Task<SoakClient> ConnectAsync(PaperclipServer server, KnownKeysCertificateValidator validator, byte[] serverPublicKey, ProblemLogger logs, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _nextClientId);
        var key = AccountKey.Generate();
        validator.Add(id, AccountKey.ExportPublicKey(key));
        var client = new PaperclipClient(new PaperclipClientOptions
        {
            Certificate = AccountCertificate.Create(key, id, $"soak{id}", DateTimeOffset.UtcNow.AddMinutes(-5), TimeSpan.FromHours(12)),
            PrivateKey = key,
            ServerPublicKey = serverPublicKey,
            SocketBufferSize = 256 << 10,
        }, logs.For<PaperclipClient>());
        var soak = new SoakClient(id, client, key, this);
        client.DataReceived += (data, flags) => OnData(id, data, flags, up: false);
        client.Disconnected += (_, e) =>
        {
            if (!soak.Leaving && !_stopping)
                _problems.Enqueue($"client {id} disconnected: {e.Reason} {e.Text}");
        };
        client.ErrorReceived += (_, e) => _problems.Enqueue($"client {id}: error {e.Code} {e.Text}");
        await client.ConnectAsync(server.LocalEndPoint, cancellationToken).ConfigureAwait(false);
        // The server has it once its Finished arrived.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!server.Connections.Any(c => c.AccountId == id) && DateTime.UtcNow < deadline)
            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
        return soak;
    }

    // [client id u32][index u64][up u8][random …]; the receiver checks a SHA-256 kept by the sender.
    private void Send(SoakClient client, bool reliable, int size, Random random, bool up, PaperclipConnection? connection)
    {
        var index = client.NextIndex();
        var message = new byte[Math.Max(size, 13)];
        random.NextBytes(message);
        BitConverter.TryWriteBytes(message, client.Id);
        BitConverter.TryWriteBytes(message.AsSpan(4), index);
        message[12] = (byte)(up ? 1 : 0);
        if (reliable)
        {
            _expected[(client.Id, index, up)] = SHA256.HashData(message);
            Interlocked.Increment(ref _reliableSent);
        }
        else
        {
            Interlocked.Increment(ref _unreliableSent);
        }
        try
        {
            var delivery = reliable ? Delivery.Reliable : Delivery.Unreliable;
            if (up)
                client.Client.Send(message, delivery);
            else
                connection!.Send(message, delivery);
        }
        catch (ObjectDisposedException)
        {
            _expected.TryRemove((client.Id, index, up), out _);
        }
    }

    private void OnData(int receiver, ReadOnlySpan<byte> data, MessageInfo message, bool up)
    {
        if (_gone.ContainsKey(receiver))
            return; // sent by or to a client that has left since: nothing is expected of it
        if (data.Length < 13 || BitConverter.ToInt32(data) != receiver || data[12] != (up ? 1 : 0))
        {
            Interlocked.Increment(ref _corrupted);
            _problems.Enqueue($"a message for client {receiver} is not its own");
            return;
        }
        if (message.Delivery == Delivery.Unreliable)
        {
            Interlocked.Increment(ref _unreliableDelivered);
            return;
        }
        var index = BitConverter.ToInt64(data[4..]);
        if (!_expected.TryRemove((receiver, index, up), out var hash))
        {
            Interlocked.Increment(ref _duplicates);
            _problems.Enqueue($"reliable message {index} {(up ? "from" : "to")} client {receiver} arrived twice (or was never sent)");
            return;
        }
        if (!SHA256.HashData(data).AsSpan().SequenceEqual(hash))
        {
            Interlocked.Increment(ref _corrupted);
            _problems.Enqueue($"reliable message {index} {(up ? "from" : "to")} client {receiver} arrived changed");
        }
        Interlocked.Increment(ref _reliableDelivered);
    }

    // A client that leaves drops the expectations of its messages still in flight.
    internal void Forget(int client)
    {
        _gone[client] = true;
        foreach (var key in _expected.Keys)
        {
            if (key.Client == client)
                _expected.TryRemove(key, out _);
        }
    }

    private sealed class SoakClient(int id, PaperclipClient client, IDisposable key, SoakRunner runner) : IAsyncDisposable
    {
        private long _index;

        public int Id { get; } = id;

        public PaperclipClient Client { get; } = client;

        public bool Leaving { get; private set; }

        public long NextIndex() => Interlocked.Increment(ref _index);

        public async ValueTask DisposeAsync()
        {
            Leaving = true;
            await Client.DisposeAsync().ConfigureAwait(false);
            runner.Forget(Id);
            key.Dispose();
        }
    }

    /// <summary>Turns every log entry at Error (or with an exception) into a problem.</summary>
    private sealed class ProblemLogger(ConcurrentQueue<string> problems)
    {
        public ILogger<T> For<T>() => new Logger<T>(problems);

        private sealed class Logger<T>(ConcurrentQueue<string> problems) : ILogger<T>
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (logLevel >= LogLevel.Error || exception is not null)
                    problems.Enqueue($"{typeof(T).Name} logged {logLevel}: {formatter(state, exception)} {exception}");
            }
        }
    }
}
