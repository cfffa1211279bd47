using System.Net;
using System.Net.Sockets;
using LiteNetLib;
using Microsoft.Extensions.Logging.Abstractions;
using Paperclip.Transport;
using Paperclip.Transport.Internal;
using Paperclip.Transport.Internal.Io;

namespace Paperclip.LoadTest;

internal enum ImplKind
{
    Paperclip,
    LiteNetLib,
    Raw,
    RawEngine,
}

/// <summary>
/// Which transport, and for Paperclip whether it seals every packet (the default policy) or none,
/// and whether this process exports the transport's metrics meanwhile (<see cref="MetricsExport"/>).
/// </summary>
internal sealed record ImplSpec(ImplKind Kind, bool Encrypted, bool Metrics = false)
{
    public string Name => Kind switch
    {
        ImplKind.Paperclip when Metrics => "paperclip+metrics",
        ImplKind.Paperclip => Encrypted ? "paperclip" : "paperclip-plain",
        ImplKind.LiteNetLib => "litenetlib",
        ImplKind.RawEngine => "raw-engine",
        _ => "raw",
    };

    public bool SupportsReliable => Kind is not (ImplKind.Raw or ImplKind.RawEngine);

    public static ImplSpec Parse(string name) => name switch
    {
        "paperclip" => new(ImplKind.Paperclip, true),
        "paperclip+metrics" => new(ImplKind.Paperclip, true, Metrics: true),
        "paperclip-plain" => new(ImplKind.Paperclip, false),
        "litenetlib" => new(ImplKind.LiteNetLib, false),
        "raw" => new(ImplKind.Raw, false),
        "raw-engine" => new(ImplKind.RawEngine, false),
        _ => throw new ArgumentException($"Unknown --impl {name} (paperclip, paperclip+metrics, paperclip-plain, litenetlib, raw, raw-engine)."),
    };
}

/// <summary>The server half of a transport under test: messages go to the <see cref="Sink"/>.</summary>
internal interface ILoadServer : IAsyncDisposable
{
    IPEndPoint EndPoint { get; }

    /// <summary>Clients connected (raw: HELLOs answered).</summary>
    int Connected { get; }

    /// <summary>The library's own counters, for a run that went wrong (null when it has none).</summary>
    string? Describe() => null;
}

/// <summary>The client half: sends messages to the server.</summary>
internal interface ILoadClient : IAsyncDisposable
{
    void Send(ReadOnlySpan<byte> payload, bool reliable);

    /// <summary>
    /// True when the library bounds what a reliable sender may queue itself (Paperclip's send
    /// buffer): the sender then uses <see cref="TrySendReliable"/> and <see cref="WaitWritable"/>
    /// instead of the harness's credit window.
    /// </summary>
    bool HasBackpressure => false;

    /// <summary>Sends a reliable message, or returns false when the library's send buffer is full.</summary>
    bool TrySendReliable(ReadOnlySpan<byte> payload) => throw new NotSupportedException();

    /// <summary>Blocks until the library's send buffer has room again, or the timeout.</summary>
    void WaitWritable(int timeoutMilliseconds) => throw new NotSupportedException();

    /// <summary>Pumps a client that has no threads of its own (LiteNetLib's manual mode); a no-op otherwise.</summary>
    void Update(float elapsedMilliseconds);

    /// <summary>The library's own counters, for a run that went wrong (null when it has none).</summary>
    string? Describe() => null;
}

internal interface ILoadImpl
{
    ILoadServer StartServer(Sink sink, int maxClients);

    /// <summary>
    /// Connects client number <paramref name="index"/> (Paperclip: with account <c>index % accounts</c>).
    /// With <paramref name="manual"/> the client is pumped by <see cref="ILoadClient.Update"/> instead
    /// of its own threads, where the library offers that.
    /// </summary>
    Task<ILoadClient> ConnectAsync(IPEndPoint server, int index, bool manual, CancellationToken cancellationToken);
}

internal static class Impls
{
    public static ILoadImpl Create(ImplSpec spec, Pki? pki) => spec.Kind switch
    {
        ImplKind.Paperclip => new PaperclipImpl(pki ?? throw new ArgumentNullException(nameof(pki)), spec.Encrypted),
        ImplKind.LiteNetLib => new LiteNetLibImpl(),
        ImplKind.RawEngine => new RawEngineImpl(),
        _ => new RawImpl(),
    };
}

// ------------------------------------------------------------------------------------ Paperclip

/// <summary>Paperclip with the default policy (every packet sealed) or the optional one with plaintext sends.</summary>
internal sealed class PaperclipImpl(Pki pki, bool encrypted) : ILoadImpl
{
    private EncryptionPolicy Policy => encrypted ? EncryptionPolicy.Required : EncryptionPolicy.Optional;

    public ILoadServer StartServer(Sink sink, int maxClients)
    {
        var server = new PaperclipServer(new PaperclipServerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            Certificate = pki.ServerCertificate,
            PrivateKey = pki.ServerKey,
            CertificateValidator = pki.CreateValidator(),
            MaxClients = maxClients,
            CookieMode = CookieMode.Off,
            EncryptionPolicy = Policy,
        });
        server.DataReceived += (_, data, _) => sink.OnMessage(data);
        server.Start();
        return new Server(server);
    }

    public async Task<ILoadClient> ConnectAsync(IPEndPoint server, int index, bool manual, CancellationToken cancellationToken)
    {
        var account = pki.Accounts[index % pki.Accounts.Count];
        var client = new PaperclipClient(new PaperclipClientOptions
        {
            Certificate = account.Certificate,
            PrivateKey = account.Key,
            ServerPublicKey = pki.ServerPublicKey,
            EncryptionPolicy = Policy,
        });
        try
        {
            await client.ConnectAsync(server, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return new Client(client);
    }

    private sealed class Server(PaperclipServer server) : ILoadServer
    {
        public IPEndPoint EndPoint => server.LocalEndPoint;

        public int Connected => server.ConnectionCount;

        public string? Describe()
        {
            var text = new System.Text.StringBuilder($"server: {server.ConnectionCount} connected");
            foreach (var connection in server.Connections)
                text.Append("; ").Append(Statistics(connection.Statistics));
            return text.ToString();
        }

        public ValueTask DisposeAsync() => server.DisposeAsync();
    }

    private sealed class Client(PaperclipClient client) : ILoadClient
    {
        // Like with like: LiteNetLib's reliable delivery here is ReliableOrdered, so is ours (channel
        // 0). Under the required policy ENCRYPTED is implied; under the optional one it is left off.
        public void Send(ReadOnlySpan<byte> payload, bool reliable)
        {
            // A full send buffer (the loop not keeping up with this thread) blocks, as a blocking
            // socket's send would, rather than throwing; the wait allocates, a message does not.
            var delivery = reliable ? Delivery.ReliableOrdered : Delivery.Unreliable;
            while (!client.TrySend(payload, delivery, 0))
                client.WhenWritableAsync().Wait(50);
        }

        public bool HasBackpressure => true;

        public bool TrySendReliable(ReadOnlySpan<byte> payload) => client.TrySend(payload, Delivery.ReliableOrdered, 0);

        public void WaitWritable(int timeoutMilliseconds) => client.WhenWritableAsync().Wait(timeoutMilliseconds);

        public void Update(float elapsedMilliseconds)
        {
        }

        public string? Describe() => $"client connected={client.IsConnected}: {Statistics(client.Statistics)}";

        public ValueTask DisposeAsync() => client.DisposeAsync();
    }

    private static string Statistics(ConnectionStatistics s) =>
        $"datagrams out {s.DatagramsSent} in {s.DatagramsReceived}, messages out {s.MessagesSent} in {s.MessagesReceived}, retransmissions {s.Retransmissions}, "
        + $"rtt {s.RoundTripTime.TotalMilliseconds:0.###} ms, dropped {string.Join(' ', Enum.GetValues<DropReason>().Where(r => s.Dropped(r) > 0).Select(r => $"{r}={s.Dropped(r)}"))}";
}

// ------------------------------------------------------------------------------------ LiteNetLib

/// <summary>
/// LiteNetLib 2.1.5 as its reference figures were taken: UpdateTime 1 ms, unsynced events, no
/// encryption layer; RELIABLE maps to ReliableOrdered (as Paperclip's does), unreliable to Unreliable.
/// </summary>
internal sealed class LiteNetLibImpl : ILoadImpl
{
    private const string Key = "paperclip-load";

    public ILoadServer StartServer(Sink sink, int maxClients)
    {
        var listener = new EventBasedNetListener();
        var manager = new NetManager(listener)
        {
            UpdateTime = 1,
            UnsyncedEvents = true,
            AutoRecycle = true,
            DisconnectTimeout = 30_000,
        };
        var server = new Server(manager);
        listener.ConnectionRequestEvent += request =>
        {
            if (manager.ConnectedPeersCount < maxClients)
                request.AcceptIfKey(Key);
            else
                request.Reject();
        };
        listener.PeerConnectedEvent += _ => Interlocked.Increment(ref server.ConnectedCount);
        listener.PeerDisconnectedEvent += (_, _) => Interlocked.Decrement(ref server.ConnectedCount);
        listener.NetworkReceiveEvent += (_, reader, _, _) => sink.OnMessage(reader.RawData.AsSpan(reader.Position, reader.AvailableBytes));
        if (!manager.Start(IPAddress.Loopback, IPAddress.IPv6None, 0))
            throw new InvalidOperationException("LiteNetLib could not start.");
        return server;
    }

    public async Task<ILoadClient> ConnectAsync(IPEndPoint server, int index, bool manual, CancellationToken cancellationToken)
    {
        var listener = new EventBasedNetListener();
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        listener.PeerConnectedEvent += _ => connected.TrySetResult();
        listener.PeerDisconnectedEvent += (_, info) => connected.TrySetException(new InvalidOperationException($"LiteNetLib connect failed: {info.Reason}"));
        var manager = new NetManager(listener)
        {
            UpdateTime = 1,
            UnsyncedEvents = true,
            AutoRecycle = true,
            DisconnectTimeout = 30_000,
        };
        var started = manual ? manager.StartInManualMode(IPAddress.Loopback, IPAddress.IPv6None, 0) : manager.Start(IPAddress.Loopback, IPAddress.IPv6None, 0);
        if (!started)
            throw new InvalidOperationException("LiteNetLib could not start.");
        var client = new Client(manager, manual);
        try
        {
            client.Peer = manager.Connect(server, Key) ?? throw new InvalidOperationException("LiteNetLib refused to connect.");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            if (manual)
            {
                while (!connected.Task.IsCompleted)
                {
                    client.Update(1);
                    await Task.Delay(1, timeout.Token).ConfigureAwait(false);
                }
            }
            await connected.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return client;
    }

    private sealed class Server(NetManager manager) : ILoadServer
    {
        public int ConnectedCount;

        public IPEndPoint EndPoint => new(IPAddress.Loopback, manager.LocalPort);

        public int Connected => Volatile.Read(ref ConnectedCount);

        public ValueTask DisposeAsync()
        {
            manager.Stop();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class Client(NetManager manager, bool manual) : ILoadClient
    {
        public NetPeer? Peer { get; set; }

        public void Send(ReadOnlySpan<byte> payload, bool reliable) =>
            Peer!.Send(payload, reliable ? DeliveryMethod.ReliableOrdered : DeliveryMethod.Unreliable);

        public void Update(float elapsedMilliseconds)
        {
            if (!manual)
                return;
            manager.PollEvents();
            manager.ManualUpdate(elapsedMilliseconds);
        }

        public ValueTask DisposeAsync()
        {
            if (manual)
            {
                Peer?.Disconnect();
                manager.ManualUpdate(1);
            }
            manager.Stop();
            return ValueTask.CompletedTask;
        }
    }
}

// ------------------------------------------------------------------------------------ raw sockets

/// <summary>
/// The ceiling: one plain UDP socket per side, one blocking <c>ReceiveFrom</c> thread on the server,
/// <c>Send</c> on a connected socket per client; no reliability, batching or security. "Connecting"
/// is one HELLO byte answered by the server (a 1-RTT exchange, for the handshake scenario).
/// </summary>
internal sealed class RawImpl : ILoadImpl
{
    public const byte Hello = 0xFF;
    private const int BufferSize = 4 << 20;

    public ILoadServer StartServer(Sink sink, int maxClients) => new Server(sink);

    public async Task<ILoadClient> ConnectAsync(IPEndPoint server, int index, bool manual, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { SendBufferSize = BufferSize, ReceiveBufferSize = BufferSize };
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            socket.Connect(server);
            var hello = new[] { Hello };
            var answer = new byte[16];
            for (var attempt = 0; ; attempt++)
            {
                if (attempt > 5)
                    throw new TimeoutException("The raw server did not answer HELLO.");
                await socket.SendAsync(hello, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromMilliseconds(250 << Math.Min(attempt, 4)));
                try
                {
                    if (await socket.ReceiveAsync(answer, SocketFlags.None, timeout.Token).ConfigureAwait(false) == 1 && answer[0] == Hello)
                        return new Client(socket);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && attempt < 5)
                {
                }
            }
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private sealed class Server : ILoadServer
    {
        private readonly Socket _socket;
        private readonly Sink _sink;
        private readonly Thread _thread;
        private volatile bool _stopping;
        private int _connected;

        public Server(Sink sink)
        {
            _sink = sink;
            _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { SendBufferSize = BufferSize, ReceiveBufferSize = BufferSize };
            _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
            _thread = new Thread(ReceiveLoop) { IsBackground = true, Name = "raw receive" };
            _thread.Start();
        }

        public IPEndPoint EndPoint { get; }

        public int Connected => Volatile.Read(ref _connected);

        private void ReceiveLoop()
        {
            var buffer = GC.AllocateArray<byte>(65_536, pinned: true);
            var from = new SocketAddress(AddressFamily.InterNetwork);
            while (!_stopping)
            {
                int received;
                try
                {
                    received = _socket.ReceiveFrom(buffer, SocketFlags.None, from);
                }
                catch (SocketException)
                {
                    continue;
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
                if (received == 1 && buffer[0] == Hello)
                {
                    Interlocked.Increment(ref _connected);
                    _socket.SendTo(buffer.AsSpan(0, 1), SocketFlags.None, from);
                    continue;
                }
                _sink.OnMessage(buffer.AsSpan(0, received));
            }
        }

        public ValueTask DisposeAsync()
        {
            _stopping = true;
            _socket.Dispose();
            _thread.Join(TimeSpan.FromSeconds(5));
            return ValueTask.CompletedTask;
        }
    }

    private sealed class Client(Socket socket) : ILoadClient
    {
        public void Send(ReadOnlySpan<byte> payload, bool reliable)
        {
            if (reliable)
                throw new NotSupportedException("Raw sockets have no reliable delivery.");
            try
            {
                socket.Send(payload, SocketFlags.None);
            }
            catch (SocketException)
            {
                // A full buffer or ICMP feedback: the message is lost, as UDP allows.
            }
        }

        public void Update(float elapsedMilliseconds)
        {
        }

        public ValueTask DisposeAsync()
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

// ------------------------------------------------------------------------------------ raw datagrams on Paperclip's engine

/// <summary>
/// The floor under Paperclip's servers: raw's datagrams and clients, but each server is a socket of
/// Paperclip's shared I/O engine (the loops, io_uring or epoll, provided buffers, the send batch)
/// whose handler hands the datagram to the sink and does nothing else: no header, session lookup,
/// decryption or event. What density costs here with N sockets against one is what the kernel and
/// the engine charge per socket, below any protocol.
/// </summary>
internal sealed class RawEngineImpl : ILoadImpl
{
    private static readonly TransportSettings s_settings = new(new PaperclipServerOptions());
    private readonly RawImpl _clients = new();

    public ILoadServer StartServer(Sink sink, int maxClients) => new Server(sink);

    public Task<ILoadClient> ConnectAsync(IPEndPoint server, int index, bool manual, CancellationToken cancellationToken) =>
        _clients.ConnectAsync(server, index, manual, cancellationToken);

    private sealed class Server : ILoadServer, IDatagramHandler
    {
        private readonly Sink _sink;
        private readonly UdpEndpoint _endpoint;
        private int _connected;

        public Server(Sink sink)
        {
            _sink = sink;
            _endpoint = new UdpEndpoint(new IPEndPoint(IPAddress.Loopback, 0), this, s_settings, Clock.For(TimeProvider.System), NullLogger.Instance);
            _endpoint.Start();
        }

        public IPEndPoint EndPoint => _endpoint.LocalEndPoint;

        public int Connected => Volatile.Read(ref _connected);

        public void OnDatagram(Span<byte> datagram, SocketAddress from)
        {
            if (datagram.Length == 1 && datagram[0] == RawImpl.Hello)
            {
                Interlocked.Increment(ref _connected);
                _endpoint.Send(datagram, from);
                return;
            }
            _sink.OnMessage(datagram);
        }

        public ValueTask DisposeAsync() => _endpoint.DisposeAsync();
    }
}
