using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Paperclip.Protocol;
using Paperclip.Protocol.Crypto;
using Paperclip.Transport.Internal;
using Paperclip.Transport.Internal.Connection;
using Paperclip.Transport.Internal.Handshake;
using Paperclip.Transport.Internal.Io;

namespace Paperclip.Transport;

/// <summary>
/// A Paperclip server: one UDP socket, many clients, one session per client address
/// (protocol §3–§8). Start it, handle its events (or <see cref="Poll"/> them), send through
/// each <see cref="PaperclipConnection"/>, dispose it to tell every client it is going.
/// The socket and its sessions run on one thread of the process-wide I/O engine, shared with
/// every other server and client in the process; a server with nothing to do costs nothing.
/// </summary>
public sealed partial class PaperclipServer : IDatagramHandler, IAsyncDisposable
{
    // By address for the loop's lookups (loop thread only); other threads read _sessionList.
    private readonly AddressTable<ServerSession> _sessions = new();
    private readonly CopyOnWriteList<ServerSession> _sessionList = new();
    private readonly ConcurrentDictionary<SocketAddress, ServerHandshake> _pending = new();
    private readonly ILogger _logger;
    private readonly EventQueue _events;
    private readonly AddressValidation _addressValidation;
    private readonly ReassemblyBudget _reassemblyBudget;
    private readonly ReassemblyBudget _heldBudget;
    private readonly MessageRaiser _raiseData;
    private readonly Action<ServerHandshake, long> _onHandshakeTimer;
    private readonly CancellationTokenSource _stopping = new();
    private readonly IPEndPoint _listenEndPoint;
    private readonly ServerCredentials _credentials;
    private readonly ICertificateValidator _validator;
    private readonly Func<ClientIdentity, bool>? _admission;
    private readonly int _maxClients;
    private readonly int _maxPending;
    private readonly byte _maxVersion;
    private readonly byte[] _acceptedVersions;
    private UdpEndpoint? _endpoint;

    /// <summary>Creates a server; <see cref="Start"/> binds it.</summary>
    /// <exception cref="ArgumentException">An option is missing or out of range.</exception>
    public PaperclipServer(PaperclipServerOptions options, ILogger<PaperclipServer>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        Settings = new TransportSettings(options);
        _listenEndPoint = options.ListenEndPoint;
        _credentials = new ServerCredentials(options.Certificate!.ToArray(), options.PrivateKey!);
        _validator = options.CertificateValidator!;
        _admission = options.Admission;
        _maxClients = options.MaxClients;
        _maxPending = options.MaxPendingHandshakes;
        _maxVersion = (byte)options.MaxProtocolVersion;
        _acceptedVersions = [.. Enumerable.Range(ProtocolConstants.Version1, _maxVersion).Select(v => (byte)v)];
        Clock = Clock.For(options.TimeProvider);
        _logger = logger ?? NullLogger<PaperclipServer>.Instance;
        _events = new EventQueue(options.EventDelivery);
        _addressValidation = new AddressValidation(options.CookieMode, options.CookiePendingThreshold, options.CookieAuthRateThreshold, options.TimeProvider, options.CookieLifetime);
        _reassemblyBudget = new ReassemblyBudget(options.MaxReassemblyBytes);
        _heldBudget = new ReassemblyBudget(options.MaxHeldBytesTotal);
        _raiseData = (connection, data, info) => DataReceived?.Invoke((PaperclipConnection)connection, data, info);
        _onHandshakeTimer = OnHandshakeTimer;
    }

    /// <summary>A client sent a message (on the receive thread, or from <see cref="Poll"/>).</summary>
    public event ServerDataHandler? DataReceived;

    /// <summary>A client completed its handshake.</summary>
    public event EventHandler<ClientJoinedEventArgs>? ClientJoined;

    /// <summary>A client's session ended (it left, timed out, was replaced, or the server stopped).</summary>
    public event EventHandler<DisconnectedEventArgs>? ClientLeft;

    /// <summary>A client sent an ERROR that did not end its session.</summary>
    public event EventHandler<ErrorReceivedEventArgs>? ErrorReceived;

    /// <summary>The options as given. They were validated and copied at construction: changing them later changes nothing.</summary>
    public PaperclipServerOptions Options { get; }

    /// <summary>Handshake and defence counters.</summary>
    public ServerStatistics Statistics { get; } = new();

    /// <summary>The bound address (with the port the system picked when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint => _endpoint?.LocalEndPoint ?? throw new InvalidOperationException("The server is not started.");

    /// <summary>The connected clients.</summary>
    public IReadOnlyCollection<PaperclipConnection> Connections => _sessionList.Items.Select(s => s.Connection).ToArray();

    /// <summary>How many clients are connected.</summary>
    public int ConnectionCount => _sessionList.Items.Length;

    /// <summary>How many handshakes are in progress.</summary>
    public int PendingHandshakeCount => _pending.Count;

    internal Clock Clock { get; }

    /// <summary>The sessions, without copying (for the metrics).</summary>
    internal ServerSession[] SessionList => _sessionList.Items;

    internal TransportSettings Settings { get; }

    internal ILogger Logger => _logger;

    /// <summary>Binds the socket and starts receiving on one of the I/O engine's threads.</summary>
    /// <exception cref="System.Net.Sockets.SocketException">The address is in use or not available.</exception>
    /// <exception cref="IOException">The process's open-files limit is reached.</exception>
    public void Start()
    {
        if (_endpoint is not null)
            throw new InvalidOperationException("The server is already started.");
        _endpoint = new UdpEndpoint(_listenEndPoint, this, Settings, Clock, _logger);
        _endpoint.Start();
        TransportMetrics.ServerStarted(this);
        LogStarted(_logger, _endpoint.LocalEndPoint);
    }

    /// <summary>
    /// Takes a new certificate (DER, signed by the backend's server key) and its private key for
    /// the handshakes answered from now on, without a restart: how a short-lived certificate is
    /// renewed. Connected clients are unaffected (a certificate is only sent in the handshake).
    /// Thread-safe. The server owns neither key: once this returns it never uses the previous
    /// key again, so the caller may dispose it. <see cref="Options"/> keeps the first certificate.
    /// </summary>
    /// <exception cref="ArgumentException">The certificate is empty, or the key is neither RSA nor ECDSA.</exception>
    public void UpdateCertificate(ReadOnlySpan<byte> certificate, System.Security.Cryptography.AsymmetricAlgorithm privateKey)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        if (certificate.IsEmpty)
            throw new ArgumentException("The certificate is empty.", nameof(certificate));
        if (privateKey is not (System.Security.Cryptography.RSA or System.Security.Cryptography.ECDsa))
            throw new ArgumentException("The key must be RSA or ECDSA.", nameof(privateKey));
        _credentials.Replace(certificate.ToArray(), privateKey);
    }

    /// <summary>Raises queued events on the calling thread (with <see cref="EventDelivery.Polled"/>); returns how many.</summary>
    public int Poll(int maxEvents = int.MaxValue) => _events.Drain(maxEvents);

    /// <summary>
    /// Sends a message to every connected client; a client whose send buffer is full misses it
    /// (see <see cref="PaperclipConnection.TrySend(ReadOnlySpan{byte}, Delivery, int, SendOptions)"/>).
    /// A channel delivery goes to the version-2 clients only. Returns how many clients it went to.
    /// </summary>
    public int Broadcast(ReadOnlySpan<byte> data, Delivery delivery = Delivery.Reliable, SendOptions options = SendOptions.None, int channel = 0)
    {
        var sent = 0;
        var needsChannels = MessageInfo.IsChannelDelivery(delivery);
        foreach (var session in _sessionList.Items)
        {
            if (!session.IsEnding && (!needsChannels || session.Version >= ProtocolConstants.Version2) && session.TrySend(data, delivery, channel, options))
                sent++;
        }
        return sent;
    }

    /// <summary>Tells every client the server is going (SERVER_DISCONNECT), then closes the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
            return;
        _stopping.Cancel();
        if (_endpoint is not null)
        {
            await _endpoint.Loop.InvokeAsync(() =>
            {
                foreach (var session in _sessions.Values())
                    session.Close(DisconnectReason.ServerDisconnect, notifyPeer: true, "the server is shutting down");
                foreach (var handshake in _pending.Values)
                {
                    NotifyShutdown(handshake);
                    handshake.IsOver = true;
                    handshake.Dispose();
                }
                _pending.Clear();
            }).ConfigureAwait(false);
            await _endpoint.DisposeAsync().ConfigureAwait(false);
            TransportMetrics.ServerStopped(this);
        }
        _addressValidation.Dispose();
        _stopping.Dispose();
    }

    // A client whose Finished has not arrived may already consider itself connected: tell it too,
    // sealed with the handshake's keys as its first packets from us would be.
    private void NotifyShutdown(ServerHandshake handshake)
    {
        lock (handshake.Lock)
        {
            if (handshake.Keys is null)
                return;
            using var sender = handshake.Keys.CreateSender(isClient: false);
            Span<byte> datagram = stackalloc byte[Framer.DisconnectSize];
            for (var packetNumber = 0UL; packetNumber < Framer.DisconnectRepeats; packetNumber++)
                _endpoint!.Send(datagram[..Framer.WriteDisconnect(datagram, DisconnectReason.ServerDisconnect, HandshakeSequences.FirstSessionSequence, sender, packetNumber)], handshake.Remote);
        }
    }

    // ---------------------------------------------------------------- I/O loop

    void IDatagramHandler.OnDatagram(Span<byte> datagram, SocketAddress from)
    {
        // Read as version 2 reads it: a version-1 session refuses a CHANNEL packet itself.
        if (!PacketReader.TryRead(datagram, ProtocolConstants.LatestVersion, out var header, out var error))
        {
            if (_sessions.TryGetValue(from, out var known))
                known.OnMalformed(error);
            else
                Interlocked.Increment(ref Statistics._unknownPeerDropped);
            return;
        }

        var plainAck = header.Type == PacketType.Ack && (header.Flags & PacketFlags.Encrypted) == 0;
        if (header.Type == PacketType.Auth)
        {
            OnAuth(datagram, header, from);
        }
        else if (plainAck && _pending.TryGetValue(from, out var handshake) && header.Flags == PacketFlags.Reliable)
        {
            OnClientFinished(handshake, datagram, header);
        }
        else if (_sessions.TryGetValue(from, out var session))
        {
            session.OnDatagram(datagram, header);
        }
        else
        {
            Interlocked.Increment(ref Statistics._unknownPeerDropped);
        }
    }

    private void OnAuth(ReadOnlySpan<byte> datagram, in PacketHeader header, SocketAddress from)
    {
        var now = Clock.NowMilliseconds;
        _addressValidation.CountAuth(now);
        if (datagram.Length < ProtocolConstants.MinClientAuthSize || header.Flags != PacketFlags.None)
        {
            Interlocked.Increment(ref Statistics._shortAuthDropped);
            return;
        }
        Interlocked.Add(ref Statistics._bytesReceivedUnvalidated, datagram.Length);
        // VERSION before any other field (§5.1); a FALLBACK naming a version we accept means
        // someone forged the refusal that made the client fall back: refuse, so it gives up.
        if (header.Version is < ProtocolConstants.Version1 || header.Version > _maxVersion
            || (ClientAuthData.TryRead(datagram[header.Length..], out _, out var fallback) && fallback != 0 && fallback <= _maxVersion))
        {
            TransportMetrics.HandshakeFailed(ConnectionError.VersionUnsupported);
            SendStateless(from, ErrorCode.Of(ConnectionError.VersionUnsupported), _acceptedVersions);
            return;
        }
        var key = datagram[header.Key];
        // KEY exactly of a form of §6.1, and X25519 only from version 2.
        if (!EphemeralKey.TryIdentify(key, out var keyAgreement) || (keyAgreement == KeyAgreement.X25519 && header.Version < ProtocolConstants.Version2))
        {
            Interlocked.Increment(ref Statistics._handshakesFailed);
            TransportMetrics.HandshakeFailed(ConnectionError.Connection);
            SendStateless(from, ErrorCode.Of(ConnectionError.Connection), default);
            return;
        }
        if (_sessions.TryGetValue(from, out var current) && key.SequenceEqual(current.ClientKey))
            return; // a late copy of the AUTH that made the current session
        if (_pending.TryGetValue(from, out var existing))
        {
            lock (existing.Lock)
            {
                // A repeat is the same datagram; the same KEY in other bytes may be a clean copy of an
                // AUTH that arrived corrupted (the answers are bound to the bytes), so it starts over.
                if (key.SequenceEqual(existing.ClientKeySpan) && datagram.SequenceEqual(existing.ClientAuth))
                {
                    existing.BytesReceived += datagram.Length;
                    if (existing.Ready)
                        SendAnswers(existing);
                    return;
                }
            }
        }

        // Address validation comes before any state or asymmetric work (§5.6).
        if (_addressValidation.CookiesDemanded(_pending.Count) && !_addressValidation.HasValidCookie(datagram[header.Length..], from))
        {
            Span<byte> cookie = stackalloc byte[AddressValidation.CookieSize];
            _addressValidation.CreateCookie(from, cookie);
            SendStateless(from, ErrorCode.Of(ConnectionError.Retry), cookie);
            Interlocked.Increment(ref Statistics._retriesSent);
            return;
        }
        var replacing = current is not null ? 1 : 0;
        if (_sessions.Count - replacing + _pending.Count >= _maxClients)
        {
            Interlocked.Increment(ref Statistics._handshakesFailed);
            TransportMetrics.HandshakeFailed(ConnectionError.NoSpace);
            SendStateless(from, ErrorCode.Of(ConnectionError.NoSpace), default);
            return;
        }
        if (_pending.Count >= _maxPending)
        {
            TransportMetrics.PendingLimitDropped();
            return;
        }

        var remote = from.Copy();
        var handshake = new ServerHandshake(remote, datagram.ToArray(), header.Version, keyAgreement, header.Certificate, header.Key, header.Signature, header.Sequence, now,
            Settings.HandshakeTimeoutMs, (long)Settings.InitialRetransmissionTimeoutMs, _onHandshakeTimer)
        {
            BytesReceived = datagram.Length,
        };
        if (_pending.TryGetValue(remote, out var replaced))
        {
            replaced.IsOver = true;
            replaced.Dispose();
        }
        _pending[remote] = handshake;
        _endpoint!.Schedule(handshake);
        // The certificate check, ECDH and signature take about a millisecond of CPU: on the thread
        // pool they use every core and never stall the receive loop (connected players' packets).
        // MaxPendingHandshakes bounds how many can be queued.
        ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Server.AnswerAuthAsync(state.Handshake), (Server: this, Handshake: handshake), preferLocal: false);
    }

    private async Task AnswerAuthAsync(ServerHandshake handshake)
    {
        if (_stopping.IsCancellationRequested)
            return;
        try
        {
            Interlocked.Increment(ref Statistics._certificateChecks);
            var identity = await _validator.ValidateAsync(handshake.Certificate, _stopping.Token).ConfigureAwait(false);
            if (identity is null || !AuthSignature.VerifyClient(handshake.Certificate.Span, handshake.ClientKeySpan, handshake.Signature))
            {
                FailHandshake(handshake, ConnectionError.CertificateInvalid, "certificate or signature invalid");
                return;
            }
            if (_admission is { } admission && !admission(identity))
            {
                FailHandshake(handshake, ConnectionError.NoSpace, "not admitted");
                return;
            }
            Interlocked.Increment(ref Statistics._keyAgreements);
            if (!handshake.Answer(identity, _credentials, Clock.NowMilliseconds))
            {
                FailHandshake(handshake, ConnectionError.Connection, "invalid ephemeral key");
                return;
            }
            // The answers leave from the loop, with its turn's other datagrams (one sendmmsg on
            // epoll), and are repeated from there until the Finished arrives.
            _endpoint!.Post(new AnswersReady(this, handshake));
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogHandshakeFailed(_logger, handshake.RemoteEndPoint, e);
            FailHandshake(handshake, ConnectionError.Connection, "the server could not complete the handshake");
        }
    }

    // Under handshake.Lock. Sends the AUTH and the ACK with SF, within three times what the address sent (§5.5).
    private void SendAnswers(ServerHandshake handshake)
    {
        SendUnvalidated(handshake, handshake.ServerAuth!);
        SendUnvalidated(handshake, handshake.ServerFinishedAck!);
    }

    private void SendUnvalidated(ServerHandshake handshake, ReadOnlySpan<byte> datagram)
    {
        if (!AddressValidation.WithinAmplificationBudget(handshake.BytesReceived, handshake.BytesSent, datagram.Length))
        {
            Interlocked.Increment(ref Statistics._amplificationLimited);
            return;
        }
        handshake.BytesSent += datagram.Length;
        Interlocked.Add(ref Statistics._bytesSentUnvalidated, datagram.Length);
        _endpoint!.Send(datagram, handshake.Remote);
    }

    private void FailHandshake(ServerHandshake handshake, ConnectionError error, string reason)
    {
        Interlocked.Increment(ref Statistics._handshakesFailed);
        TransportMetrics.HandshakeFailed(error);
        LogHandshakeRefused(_logger, handshake.RemoteEndPoint, error, reason);
        if (_pending.TryRemove(new KeyValuePair<SocketAddress, ServerHandshake>(handshake.Remote, handshake)))
        {
            handshake.IsOver = true;
            SendStateless(handshake.Remote, ErrorCode.Of(error), default);
            handshake.Dispose();
        }
    }

    private void OnClientFinished(ServerHandshake handshake, ReadOnlySpan<byte> datagram, in PacketHeader header)
    {
        FinishedOutcome outcome;
        lock (handshake.Lock)
            outcome = handshake.OnClientFinished(datagram, header);
        if (outcome == FinishedOutcome.Refused)
            FailHandshake(handshake, ConnectionError.FinishInvalid, "client Finished invalid");
        if (outcome != FinishedOutcome.Completed)
            return;
        if (!_pending.TryRemove(new KeyValuePair<SocketAddress, ServerHandshake>(handshake.Remote, handshake)))
            return;

        handshake.IsOver = true;
        var session = new ServerSession(this, _endpoint!, handshake.Remote, handshake, _reassemblyBudget, _heldBudget);
        session.Activate(handshake.Keys!, isClient: false, handshake.Version, Clock.NowMilliseconds);
        handshake.Dispose();
        session.ContinueSequenceAt(HandshakeSequences.FirstSessionSequence);
        session.Acknowledge(header.Sequence);
        _endpoint!.Schedule(session);
        if (_sessions.TryGetValue(handshake.Remote, out var previous))
            previous.Close(DisconnectReason.Disconnect, notifyPeer: false, "replaced by a new handshake from the same address");
        // Listed before it can be found (and so closed, and unlisted) by address: never left listed.
        _sessionList.Add(session);
        _sessions.Set(handshake.Remote, session);
        Interlocked.Increment(ref Statistics._handshakesCompleted);
        TransportMetrics.HandshakeCompleted();
        LogClientJoined(_logger, session.Connection.Username, session.Connection.AccountId, session.RemoteEndPoint);
        _events.Other(() => ClientJoined?.Invoke(this, new ClientJoinedEventArgs(session.Connection)));
    }

    /// <summary>A plaintext ERROR to an address that may have no session: small, so never an amplifier.</summary>
    private void SendStateless(SocketAddress to, ErrorCode code, ReadOnlySpan<byte> data)
    {
        var header = PacketHeader.Create(PacketType.Error, PacketFlags.None, 0);
        header.Error = code;
        Span<byte> datagram = stackalloc byte[PacketWriter.HeaderLength(PacketType.Error, PacketFlags.None) + data.Length];
        data.CopyTo(datagram[PacketWriter.WriteHeader(datagram, header)..]);
        Interlocked.Add(ref Statistics._bytesSentUnvalidated, datagram.Length);
        _endpoint!.Send(datagram, to);
    }

    // ---------------------------------------------------------------- handshake deadlines

    /// <summary>A handshake whose answers are made: sent and scheduled for repeats on the loop.</summary>
    private sealed class AnswersReady(PaperclipServer server, ServerHandshake handshake) : ILoopWork
    {
        public void RunOnLoop()
        {
            if (handshake.IsOver)
                return; // failed, timed out or replaced while the answers were made
            lock (handshake.Lock)
                server.SendAnswers(handshake);
            server._endpoint!.Schedule(handshake);
        }
    }

    // I/O loop: a pending handshake's timeout, or its answers due again.
    private void OnHandshakeTimer(ServerHandshake handshake, long now)
    {
        if (handshake.HasTimedOut(now))
        {
            if (_pending.TryRemove(new KeyValuePair<SocketAddress, ServerHandshake>(handshake.Remote, handshake)))
            {
                handshake.IsOver = true;
                Interlocked.Increment(ref Statistics._handshakesFailed);
                TransportMetrics.HandshakeTimedOut();
                handshake.Dispose();
            }
            return;
        }
        lock (handshake.Lock)
        {
            // The server AUTH is RELIABLE: repeat the answers until the client's Finished arrives.
            if (handshake.AnswersDue(now))
            {
                handshake.Retries++;
                handshake.LastSentMs = now;
                SendAnswers(handshake);
            }
        }
    }

    // ---------------------------------------------------------------- session callbacks

    internal void RaiseData(PaperclipConnection connection, ReadOnlySpan<byte> data, in MessageInfo info) =>
        _events.Message(connection, data, info, _raiseData);

    internal void RaiseError(PaperclipConnection connection, ErrorCode code, string text) =>
        _events.Other(() => ErrorReceived?.Invoke(this, new ErrorReceivedEventArgs(connection, code, text)));

    internal void OnSessionClosed(ServerSession session, DisconnectReason reason, string? text)
    {
        TransportMetrics.SessionClosed(session.Statistics);
        _sessions.Remove(session.Remote, session);
        _sessionList.Remove(session);
        LogClientLeft(_logger, session.Connection.Username, session.Connection.AccountId, reason);
        _events.Other(() => ClientLeft?.Invoke(this, new DisconnectedEventArgs(session.Connection, reason, text)));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Paperclip server listening on {EndPoint}")]
    private static partial void LogStarted(ILogger logger, IPEndPoint endPoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Username} (#{AccountId}) joined from {EndPoint}")]
    private static partial void LogClientJoined(ILogger logger, string username, long accountId, IPEndPoint endPoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Username} (#{AccountId}) left: {Reason}")]
    private static partial void LogClientLeft(ILogger logger, string username, long accountId, DisconnectReason reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Handshake from {EndPoint} refused: {Error} ({Reason})")]
    private static partial void LogHandshakeRefused(ILogger logger, IPEndPoint endPoint, ConnectionError error, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handshake from {EndPoint} failed")]
    private static partial void LogHandshakeFailed(ILogger logger, IPEndPoint endPoint, Exception exception);
}
