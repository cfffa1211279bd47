using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Paperclip.Protocol;
using Paperclip.Protocol.Certificates;
using Paperclip.Protocol.Crypto;
using Paperclip.Transport.Internal;
using Paperclip.Transport.Internal.Io;

namespace Paperclip.Transport;

/// <summary>
/// A Paperclip client: connects to one server with an account certificate (protocol §5),
/// then sends and receives messages. Dispose it to leave (CLIENT_DISCONNECT). Its socket runs
/// on one thread of the process-wide I/O engine, shared with every other client and server.
/// </summary>
public sealed partial class PaperclipClient : IDatagramHandler, IAsyncDisposable
{
    private const int MaxRetries = 3;
    // Plaintext refusals and handshake answers that fail a check may be corruption in flight or
    // a spoof from anyone on the path: each sends the AUTH again at once, and the attempt ends at
    // this many (or at the handshake timeout, with the last failure).
    private const int MaxFailedAnswers = 5;
    private readonly ILogger _logger;
    private readonly EventQueue _events;
    private readonly Lock _handshakeLock = new();
    private readonly Action<object, ReadOnlySpan<byte>, PacketFlags> _raiseData;
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HandshakeTimer _handshakeTimer;
    private UdpEndpoint? _endpoint;
    private ClientSession? _session;
    private SocketAddress? _server;
    private EphemeralKey? _ephemeral;
    private SessionKeys? _keys;
    private byte[]? _clientAuth;
    private byte[]? _earlyFinishedAck;
    private ushort _authSequence;
    private int _retries;
    private int _failedAnswers;
    private PaperclipException? _lastFailure;
    private long _startedMs;
    private long _lastAuthSentMs;
    private int _authSends;
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
        _handshakeTimer = new HandshakeTimer(this);
        Clock = new Clock(options.TimeProvider);
        _logger = logger ?? NullLogger<PaperclipClient>.Instance;
        _events = new EventQueue(options.EventDelivery);
        _raiseData = static (client, data, flags) => ((PaperclipClient)client).DataReceived?.Invoke(data, flags);
    }

    private readonly byte[] _certificate;
    private readonly AsymmetricAlgorithm _privateKey;
    private readonly byte[] _serverPublicKey;
    private readonly long _authRetransmitDelayMs;

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
        _ephemeral = EphemeralKey.Generate();
        _endpoint = endpoint;
        endpoint.Start();
        await endpoint.Loop.InvokeAsync(() =>
        {
            lock (_handshakeLock)
            {
                _startedMs = Clock.NowMilliseconds;
                SendAuth(cookie: default);
            }
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
    /// <exception cref="InvalidOperationException">Not connected.</exception>
    public void Send(ReadOnlySpan<byte> data, Delivery delivery = Delivery.Reliable, SendOptions options = SendOptions.None)
    {
        if (!IsConnected)
            throw new InvalidOperationException("Not connected.");
        _session!.Send(data, delivery, options);
    }

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
            await endpoint.Loop.InvokeAsync(() => _session!.Close(DisconnectReason.ClientDisconnect, notifyPeer: IsConnectedOrConnecting, "the client left")).ConfigureAwait(false);
            await endpoint.DisposeAsync().ConfigureAwait(false);
        }
        lock (_handshakeLock)
        {
            _ephemeral?.Dispose();
            _keys?.Dispose();
        }
    }

    private bool IsConnectedOrConnecting => _session is { IsEncrypted: true };

    // ---------------------------------------------------------------- handshake

    // Under _handshakeLock.
    private void SendAuth(ReadOnlySpan<byte> cookie)
    {
        var certificate = _certificate;
        var signature = AuthSignature.SignClient(_privateKey, _ephemeral!.PublicKey);
        _authSequence = _session!.NextSequence();
        var headerLength = PacketWriter.AuthHeaderLength(certificate.Length, _ephemeral.PublicKey.Length, signature.Length);
        // DATA: COOKIE_LEN, COOKIE, then zero padding to at least 1200 bytes (anti-amplification, §5.5).
        var auth = new byte[Math.Max(ProtocolConstants.MinClientAuthSize, headerLength + 1 + cookie.Length)];
        PacketWriter.WriteAuthHeader(auth, PacketFlags.None, _authSequence, certificate, _ephemeral.PublicKey, signature);
        auth[headerLength] = (byte)cookie.Length;
        cookie.CopyTo(auth.AsSpan(headerLength + 1));
        if (auth.Length > Settings.MaxDatagramSize)
            throw new ArgumentException("The certificate is too large for one AUTH datagram; use an RSA-2048 or ECDSA P-256 key.");
        _clientAuth = auth;
        _authSends = 0;
        TransmitAuth();
    }

    private void TransmitAuth()
    {
        _lastAuthSentMs = Clock.NowMilliseconds;
        _authSends++;
        _endpoint!.Send(_clientAuth, _server!);
    }

    void IDatagramHandler.OnDatagram(Span<byte> datagram, SocketAddress from)
    {
        if (!from.Equals(_server))
            return; // a client admits datagrams only from its server (§5.4)
        var session = _session!;
        if (!PacketReader.TryRead(datagram, out var header, out var error))
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
        if ((header.Flags & PacketFlags.Encrypted) != 0)
            return; // nothing sealed can arrive before the handshake ends

        lock (_handshakeLock)
        {
            try
            {
                switch (header.Type)
                {
                    case PacketType.Auth:
                        OnServerAuth(datagram, header);
                        break;
                    case PacketType.Ack:
                        OnServerFinished(datagram, header);
                        break;
                    case PacketType.Error when header.Error.Major == ErrorMajor.Connection:
                        OnConnectionError(header.Error, datagram[header.Length..]);
                        break;
                }
            }
            catch (PaperclipException e)
            {
                Fail(e);
            }
        }
        _endpoint!.Schedule(_handshakeTimer);
    }

    // Under _handshakeLock.
    private void OnServerAuth(ReadOnlySpan<byte> datagram, in PacketHeader header)
    {
        if (_keys is not null || header.Flags != PacketFlags.Reliable || header.Version != ProtocolConstants.Version)
            return;
        var certificate = datagram[header.Certificate];
        var key = datagram[header.Key];
        if (!ServerCertificate.Validate(certificate, _serverPublicKey, Clock.Provider.GetUtcNow())
            || !AuthSignature.VerifyServer(certificate, _clientAuth, key, datagram[header.Signature]))
        {
            OnFailedAnswer(ConnectionError.CertificateInvalid, new CertificateInvalidException("the server's certificate or signature is not valid"), tellServer: true);
            return;
        }
        Span<byte> sharedSecret = stackalloc byte[EphemeralKey.SharedSecretSize];
        if (!_ephemeral!.TryDeriveSharedSecret(key, sharedSecret))
        {
            OnFailedAnswer(ConnectionError.Connection, new ConnectionException("the server's ephemeral key is not a valid P-256 point"), tellServer: true);
            return;
        }
        Span<byte> transcript = stackalloc byte[32];
        SessionKeys.ComputeTranscriptHash(_clientAuth, datagram, transcript);
        _keys = SessionKeys.Derive(sharedSecret, transcript);
        CryptographicOperations.ZeroMemory(sharedSecret);
        _session!.ServerAuth = datagram.ToArray();
        ServerAuthSequence = header.Sequence;
        if (_earlyFinishedAck is { } early)
        {
            _earlyFinishedAck = null;
            OnServerFinished(early, ReadHeader(early));
        }
    }

    private ushort ServerAuthSequence { get; set; }

    // Under _handshakeLock.
    private void OnServerFinished(ReadOnlySpan<byte> datagram, in PacketHeader header)
    {
        var finished = datagram[header.Length..];
        if (header.Flags != PacketFlags.None || header.AckId != _authSequence || finished.Length != SessionKeys.FinishedSize)
            return;
        if (_keys is null)
        {
            _earlyFinishedAck = datagram.ToArray(); // reordered ahead of the AUTH
            return;
        }
        if (!_keys.VerifyServerFinished(finished))
        {
            OnFailedAnswer(ConnectionError.FinishInvalid, new FinishInvalidException("the server's Finished did not verify"), tellServer: true);
            return;
        }

        var session = _session!;
        session.ServerFinishedAck = datagram.ToArray();
        var ack = PacketHeader.Create(PacketType.Ack, PacketFlags.Reliable, session.NextSequence());
        ack.AckId = ServerAuthSequence;
        Span<byte> mac = stackalloc byte[SessionKeys.FinishedSize];
        _keys.ComputeClientFinished(mac);
        var finishedAck = new byte[PacketWriter.HeaderLength(PacketType.Ack, PacketFlags.Reliable) + mac.Length];
        mac.CopyTo(finishedAck.AsSpan(PacketWriter.WriteHeader(finishedAck, ack)));
        session.ClientFinished = finishedAck;
        session.Activate(_keys, isClient: true, Clock.NowMilliseconds);
        _keys.Dispose();
        _ephemeral!.Dispose();
        session.FinishedSequence = ack.Sequence;
        session.QueueFinished(ack, mac);
        LogConnected(_logger, session.RemoteEndPoint);
        if (_connected.TrySetResult())
            _events.Other(() => Connected?.Invoke(this, EventArgs.Empty));
    }

    // Under _handshakeLock.
    private void OnConnectionError(ErrorCode code, ReadOnlySpan<byte> data)
    {
        if (code.Connection == ConnectionError.Retry)
        {
            if (_keys is not null || ++_retries > MaxRetries || data.Length > byte.MaxValue)
                return;
            SendAuth(data);
            return;
        }
        OnFailedAnswer(code.Connection, PaperclipException.FromCode(code, "refused by the server"), tellServer: false);
    }

    // Under _handshakeLock. One refusal or one answer that did not verify: the AUTH again at once
    // (a corrupted copy of it may be what the server refused or answered), until the limit.
    private void OnFailedAnswer(ConnectionError error, PaperclipException exception, bool tellServer)
    {
        _lastFailure = exception;
        if (++_failedAnswers < MaxFailedAnswers)
        {
            TransmitAuth();
            return;
        }
        if (tellServer)
            Abort(error, exception);
        else
            Fail(exception);
    }

    private void Abort(ConnectionError error, PaperclipException exception)
    {
        var header = PacketHeader.Create(PacketType.Error, PacketFlags.None, 0);
        header.Error = ErrorCode.Of(error);
        Span<byte> datagram = stackalloc byte[PacketWriter.HeaderLength(PacketType.Error, PacketFlags.None)];
        PacketWriter.WriteHeader(datagram, header);
        _endpoint!.Send(datagram, _server!);
        Fail(exception);
    }

    private void Fail(Exception exception)
    {
        if (_connected.TrySetException(exception))
            LogConnectFailed(_logger, exception.Message);
    }

    private static PacketHeader ReadHeader(ReadOnlySpan<byte> datagram)
    {
        PacketReader.TryRead(datagram, out var header, out _);
        return header;
    }

    // I/O loop: the handshake's timeout, and the identical AUTH again with doubling delays until the server's answers arrive.
    private void OnHandshakeTimer(long now)
    {
        lock (_handshakeLock)
        {
            if (_connected.Task.IsCompleted)
                return;
            if (now - _startedMs >= Settings.HandshakeTimeoutMs)
            {
                Fail(_lastFailure ?? new TimeoutDisconnectException("the server did not answer the handshake"));
                return;
            }
            if (_clientAuth is not null && now >= NextAuthMs)
                TransmitAuth();
        }
    }

    private long NextAuthMs => _lastAuthSentMs + (_authRetransmitDelayMs << Math.Min(_authSends - 1, 8));

    /// <summary>The handshake's deadline on the endpoint's timer queue; gone once the handshake ended.</summary>
    private sealed class HandshakeTimer(PaperclipClient client) : ITimed
    {
        public long Deadline => client._connected.Task.IsCompleted ? long.MaxValue : Math.Min(client._startedMs + client.Settings.HandshakeTimeoutMs, client.NextAuthMs);

        public long ScheduledAt { get; set; } = long.MaxValue;

        public void OnTimer(long now) => client.OnHandshakeTimer(now);
    }

    // ---------------------------------------------------------------- session callbacks

    internal void RaiseData(ReadOnlySpan<byte> data, PacketFlags flags) => _events.Message(this, data, flags, _raiseData);

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
