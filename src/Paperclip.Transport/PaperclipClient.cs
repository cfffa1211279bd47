using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Paperclip.Protocol;
using Paperclip.Protocol.Crypto;
using Paperclip.Transport.Internal;
using Paperclip.Transport.Internal.Handshake;
using Paperclip.Transport.Internal.Io;

namespace Paperclip.Transport;

/// <summary>
/// A Paperclip client: connects to one server with an account certificate (protocol §5),
/// then sends and receives messages. Dispose it to leave (CLIENT_DISCONNECT). Its socket runs
/// on one thread of the process-wide I/O engine, shared with every other client and server.
/// </summary>
public sealed partial class PaperclipClient : IDatagramHandler, IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly EventQueue _events;
    private readonly MessageRaiser _raiseData;
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HandshakeTimer _handshakeTimer;
    private readonly byte[] _certificate;
    private readonly AsymmetricAlgorithm _privateKey;
    private readonly byte[] _serverPublicKey;
    private readonly long _authRetransmitDelayMs;
    private readonly byte _version;
    private readonly bool _allowFallback;
    private readonly KeyAgreement _keyAgreement;
    private UdpEndpoint? _endpoint;
    private ClientSession? _session;
    private SocketAddress? _server;
    private ClientHandshake? _handshake;
    private int _disposed;

    /// <summary>Creates a client; <see cref="ConnectAsync(EndPoint, CancellationToken)"/> connects it.</summary>
    /// <exception cref="ArgumentException">An option is missing or out of range.</exception>
    public PaperclipClient(PaperclipClientOptions options, ILogger<PaperclipClient>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        Settings = new TransportSettings(options);
        _certificate = options.Certificate!.ToArray();
        _privateKey = options.PrivateKey!;
        _serverPublicKey = options.ServerPublicKey!.ToArray();
        _authRetransmitDelayMs = (long)options.AuthRetransmitDelay.TotalMilliseconds;
        _version = (byte)options.ProtocolVersion;
        _allowFallback = options.AllowVersionFallback;
        _keyAgreement = _version >= ProtocolConstants.Version2 ? options.KeyAgreement : KeyAgreement.P256;
        _handshakeTimer = new HandshakeTimer(this);
        Clock = Clock.For(options.TimeProvider);
        _logger = logger ?? NullLogger<PaperclipClient>.Instance;
        _events = new EventQueue(options.EventDelivery);
        _raiseData = static (client, data, info) => ((PaperclipClient)client).DataReceived?.Invoke(data, info);
    }

    /// <summary>The server sent a message (on the receive thread, or from <see cref="Poll"/>).</summary>
    public event ClientDataHandler? DataReceived;

    /// <summary>The handshake completed.</summary>
    public event EventHandler? Connected;

    /// <summary>The session ended: the server shut down or dropped us, a timeout, or we left.</summary>
    public event EventHandler<DisconnectedEventArgs>? Disconnected;

    /// <summary>The server sent an ERROR that did not end the session.</summary>
    public event EventHandler<ErrorReceivedEventArgs>? ErrorReceived;

    /// <summary>The options as given. They were validated and copied at construction: changing them later changes nothing.</summary>
    public PaperclipClientOptions Options { get; }

    /// <summary>True between a completed handshake and the end of the session.</summary>
    public bool IsConnected => _connected.Task.IsCompletedSuccessfully && _session is { IsEnding: false };

    /// <summary>Traffic counters and the RTT (empty before <see cref="ConnectAsync(EndPoint, CancellationToken)"/>).</summary>
    public ConnectionStatistics Statistics => _session?.Statistics ?? new ConnectionStatistics();

    /// <summary>The protocol version of the session (1 or 2); 0 before it is connected.</summary>
    public int ProtocolVersion => IsConnected ? _session!.Version : 0;

    /// <summary>The local address of the client's socket.</summary>
    public IPEndPoint LocalEndPoint => _endpoint?.LocalEndPoint ?? throw new InvalidOperationException("Not connected.");

    internal Clock Clock { get; }

    internal TransportSettings Settings { get; }

    internal ILogger Logger => _logger;

    /// <summary>
    /// Performs the handshake with the server at <paramref name="server"/>: sends AUTH (repeated
    /// with backoff), follows a RETRY, checks the server's certificate and Finished.
    /// </summary>
    /// <exception cref="NoSpaceException">The server is full.</exception>
    /// <exception cref="CertificateInvalidException">The server refused our certificate, or its certificate is not signed by the configured server key.</exception>
    /// <exception cref="FinishInvalidException">A Finished MAC did not verify.</exception>
    /// <exception cref="VersionUnsupportedException">The server speaks another version.</exception>
    /// <exception cref="TimeoutDisconnectException">No answer within the handshake timeout.</exception>
    public async Task ConnectAsync(EndPoint server, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (_endpoint is not null)
            throw new InvalidOperationException("ConnectAsync was already called.");
        var target = server switch
        {
            IPEndPoint ip => ip,
            DnsEndPoint dns => new IPEndPoint((await Dns.GetHostAddressesAsync(dns.Host, cancellationToken).ConfigureAwait(false))[0], dns.Port),
            _ => throw new ArgumentException("Only IP and DNS endpoints are supported.", nameof(server)),
        };

        // A dual-mode IPv6 socket reaches IPv4 servers through mapped addresses.
        _server = new IPEndPoint(target.Address.AddressFamily == AddressFamily.InterNetwork ? target.Address.MapToIPv6() : target.Address, target.Port).Serialize();
        var endpoint = new UdpEndpoint(new IPEndPoint(IPAddress.IPv6Any, 0), this, Settings, Clock, _logger);
        _session = new ClientSession(this, endpoint, _server);
        _endpoint = endpoint;
        _handshake = new ClientHandshake(_certificate, _privateKey, _serverPublicKey, Settings, _authRetransmitDelayMs, endpoint, _server,
            _version, _allowFallback, EphemeralKey.Generate(_keyAgreement));
        endpoint.Start();
        await endpoint.Loop.InvokeAsync(() =>
        {
            _handshake.Start(Clock.NowMilliseconds);
            endpoint.Schedule(_handshakeTimer);
        }).ConfigureAwait(false);

        using var registration = cancellationToken.Register(() => Fail(new OperationCanceledException(cancellationToken)));
        await _connected.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Sends a message from any thread: sealed, delivered as <paramref name="delivery"/> says,
    /// fragmented when it does not fit one datagram. It leaves on the I/O loop's next turn.
    /// </summary>
    /// <exception cref="SizeException">The message exceeds the maximum message size or 255 fragments.</exception>
    /// <exception cref="ArgumentException">Unknown options, or <see cref="SendOptions.Plaintext"/> under the required policy.</exception>
    /// <exception cref="SendBufferFullException">The send buffer is full (<see cref="PaperclipOptions.MaxSendBufferBytes"/>).</exception>
    /// <exception cref="InvalidOperationException">Not connected.</exception>
    public void Send(ReadOnlySpan<byte> data, Delivery delivery = Delivery.Reliable, SendOptions options = SendOptions.None) => Send(data, delivery, 0, options);

    /// <summary>
    /// Sends a message on <paramref name="channel"/> (0–63) with a channel delivery
    /// (<see cref="Delivery.ReliableOrdered"/>, <see cref="Delivery.ReliableSequenced"/>,
    /// <see cref="Delivery.UnreliableSequenced"/>), from any thread; always sealed. For the other
    /// deliveries the channel is 0.
    /// </summary>
    /// <exception cref="InvalidOperationException">Not connected, or a channel delivery on a session of protocol version 1.</exception>
    /// <exception cref="SendBufferFullException">The send buffer is full.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A channel outside 0–63.</exception>
    public void Send(ReadOnlySpan<byte> data, Delivery delivery, int channel, SendOptions options = SendOptions.None) => ConnectedSession.Send(data, delivery, channel, options);

    /// <summary>Sends like <see cref="Send(ReadOnlySpan{byte}, Delivery, int, SendOptions)"/>, or returns false, sending nothing, when the send buffer has no room.</summary>
    public bool TrySend(ReadOnlySpan<byte> data, Delivery delivery = Delivery.Reliable, int channel = 0, SendOptions options = SendOptions.None) =>
        ConnectedSession.TrySend(data, delivery, channel, options);

    /// <summary>Completes once the send buffer is at most half full, or the session ended.</summary>
    public Task WhenWritableAsync(CancellationToken cancellationToken = default) => ConnectedSession.WhenWritableAsync(cancellationToken);

    /// <summary>Bytes of messages the session holds for sending: queued, waiting for a window, or sent and not yet acknowledged.</summary>
    public long QueuedBytes => _session?.BufferedBytes ?? 0;

    /// <summary>Messages the session holds for sending.</summary>
    public int QueuedMessages => _session?.BufferedMessages ?? 0;

    private ClientSession ConnectedSession => IsConnected ? _session! : throw new InvalidOperationException("Not connected.");

    /// <summary>Raises queued events on the calling thread (with <see cref="EventDelivery.Polled"/>); returns how many.</summary>
    public int Poll(int maxEvents = int.MaxValue) => _events.Drain(maxEvents);

    /// <summary>Leaves: tells the server (CLIENT_DISCONNECT) and closes the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        Fail(new ObjectDisposedException(nameof(PaperclipClient)));
        if (_endpoint is { } endpoint)
        {
            await endpoint.Loop.InvokeAsync(() =>
            {
                _session!.Close(DisconnectReason.ClientDisconnect, notifyPeer: IsConnectedOrConnecting, "the client left");
                _handshake!.Dispose();
            }).ConfigureAwait(false);
            await endpoint.DisposeAsync().ConfigureAwait(false);
        }
    }

    private bool IsConnectedOrConnecting => _session is { IsEncrypted: true };

    // ---------------------------------------------------------------- I/O loop

    void IDatagramHandler.OnDatagram(Span<byte> datagram, SocketAddress from)
    {
        if (!from.Equals(_server))
            return; // a client admits datagrams only from its server (§5.4)
        var session = _session!;
        // Read as version 2 reads it: a version-1 session refuses a CHANNEL packet itself.
        if (!PacketReader.TryRead(datagram, ProtocolConstants.LatestVersion, out var header, out var error))
        {
            if (IsConnected)
                session.OnMalformed(error);
            return;
        }
        if (_connected.Task.IsCompleted)
        {
            session.OnDatagram(datagram, header);
            return;
        }
        _handshake!.OnDatagram(datagram, header, Clock.NowMilliseconds);
        AfterHandshakeStep();
    }

    // I/O loop. A completed handshake becomes the session; a failed one fails ConnectAsync.
    private void AfterHandshakeStep()
    {
        var handshake = _handshake!;
        switch (handshake.State)
        {
            case HandshakeState.Pending:
                _endpoint!.Schedule(_handshakeTimer);
                return;
            case HandshakeState.Failed:
                Fail(handshake.Failure!);
                return;
        }
        if (_connected.Task.IsCompleted)
            return; // cancelled or disposed meanwhile
        var session = _session!;
        session.ServerAuth = handshake.ServerAuth;
        session.ServerFinishedAck = handshake.ServerFinishedAck;
        session.ClientFinished = handshake.ClientFinished;
        session.FinishedSequence = handshake.FinishedHeader.Sequence;
        session.Activate(handshake.Keys!, isClient: true, handshake.Version, Clock.NowMilliseconds);
        session.ContinueSequenceAt(handshake.NextSequence);
        handshake.Dispose();
        session.QueueFinished(handshake.FinishedHeader, handshake.FinishedMac);
        _endpoint!.Schedule(session);
        LogConnected(_logger, session.RemoteEndPoint);
        if (_connected.TrySetResult())
            _events.Other(() => Connected?.Invoke(this, EventArgs.Empty));
    }

    private void Fail(Exception exception)
    {
        if (_connected.TrySetException(exception))
            LogConnectFailed(_logger, exception.Message);
    }

    /// <summary>The handshake's deadline on the endpoint's timer queue; gone once the handshake ended.</summary>
    private sealed class HandshakeTimer(PaperclipClient client) : ITimed
    {
        public long Deadline => client._connected.Task.IsCompleted ? long.MaxValue : client._handshake!.Deadline;

        public long ScheduledAt { get; set; } = long.MaxValue;

        public void OnTimer(long now)
        {
            client._handshake!.OnTimer(now);
            client.AfterHandshakeStep();
        }
    }

    // ---------------------------------------------------------------- session callbacks

    internal void RaiseData(ReadOnlySpan<byte> data, in MessageInfo info) => _events.Message(this, data, info, _raiseData);

    internal void RaiseError(ErrorCode code, string text) =>
        _events.Other(() => ErrorReceived?.Invoke(this, new ErrorReceivedEventArgs(null, code, text)));

    internal void OnSessionClosed(DisconnectReason reason, string? text)
    {
        Fail(PaperclipException.FromCode(ErrorCode.Of(reason), text));
        LogDisconnected(_logger, reason, text);
        _events.Other(() => Disconnected?.Invoke(this, new DisconnectedEventArgs(null, reason, text)));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to {EndPoint}")]
    private static partial void LogConnected(ILogger logger, IPEndPoint endPoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection attempt failed: {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Disconnected: {Reason} {Text}")]
    private static partial void LogDisconnected(ILogger logger, DisconnectReason reason, string? text);
}
