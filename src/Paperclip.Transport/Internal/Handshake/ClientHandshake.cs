using System.Net;
using System.Security.Cryptography;
using Paperclip.Protocol;
using Paperclip.Protocol.Certificates;
using Paperclip.Protocol.Crypto;
using Paperclip.Transport.Internal.Io;

namespace Paperclip.Transport.Internal.Handshake;

/// <summary>Where a handshake stands.</summary>
internal enum HandshakeState
{
    Pending,
    Completed,
    Failed,
}

/// <summary>
/// The client's side of the handshake (protocol §5.1–§5.6) without sockets or threads: driven
/// by the server's datagrams and the time, it sends through a sink. It sends AUTH (repeated with
/// doubling delays), follows a RETRY with the cookie, checks the server's certificate, signature
/// and Finished, and ends <see cref="HandshakeState.Completed"/> with the session keys and the
/// client's Finished ACK to send, or <see cref="HandshakeState.Failed"/> with the typed error.
/// </summary>
internal sealed class ClientHandshake : IDisposable
{
    private const int MaxRetries = 3;
    // Plaintext refusals and handshake answers that fail a check may be corruption in flight or
    // a spoof from anyone on the path: each sends the AUTH again at once, and the attempt ends at
    // this many (or at the timeout, with the last failure).
    private const int MaxFailedAnswers = 5;
    private const int MaxAuthBackoffDoublings = 8;

    private readonly byte[] _certificate;
    private readonly AsymmetricAlgorithm _privateKey;
    private readonly byte[] _serverPublicKey;
    private readonly TimeProvider _time;
    private readonly int _maxDatagramSize;
    private readonly long _timeoutMs;
    private readonly long _authRetransmitDelayMs;
    private readonly IDatagramSink _sink;
    private readonly SocketAddress _server;
    private readonly byte _firstVersion;
    private readonly bool _allowFallback;
    private EphemeralKey _ephemeral;
    private byte _version;
    private byte _fallback;
    private byte[]? _clientAuth;
    private byte[]? _earlyFinishedAck;
    private ushort _nextSequence;
    private ushort _authSequence;
    private ushort _serverAuthSequence;
    private int _retries;
    private int _failedAnswers;
    private long _startedMs;
    private long _lastAuthSentMs;
    private int _authSends;

    // version: asked for (1 or 2); allowFallback: whether a refusal of it may be answered with a
    // lower version the server lists (§5.1); ephemeral: X25519 only with version 2, owned from now on.
    public ClientHandshake(byte[] certificate, AsymmetricAlgorithm privateKey, byte[] serverPublicKey, TransportSettings settings, long authRetransmitDelayMs,
        IDatagramSink sink, SocketAddress server, byte version, bool allowFallback, EphemeralKey ephemeral)
    {
        _certificate = certificate;
        _privateKey = privateKey;
        _serverPublicKey = serverPublicKey;
        _time = settings.TimeProvider;
        _maxDatagramSize = settings.MaxDatagramSize;
        _timeoutMs = settings.HandshakeTimeoutMs;
        _authRetransmitDelayMs = authRetransmitDelayMs;
        _sink = sink;
        _server = server;
        _firstVersion = _version = version;
        _allowFallback = allowFallback;
        _ephemeral = ephemeral;
    }

    /// <summary>The version asked for in the latest AUTH: once completed, the session's version.</summary>
    public byte Version => _version;

    public HandshakeState State { get; private set; }

    /// <summary>Why the handshake failed (the last refusal or check that failed, or the timeout).</summary>
    public PaperclipException? Failure { get; private set; }

    /// <summary>The keys, once the server's AUTH checked out (a session installs them once completed).</summary>
    public SessionKeys? Keys { get; private set; }

    /// <summary>The server's AUTH and its ACK with SF, kept to recognise repeats once connected.</summary>
    public byte[]? ServerAuth { get; private set; }

    public byte[]? ServerFinishedAck { get; private set; }

    /// <summary>Our Finished ACK: its header (RELIABLE, SEQ = c + 1), its MAC, and the whole datagram for repeats.</summary>
    public PacketHeader FinishedHeader { get; private set; }

    public byte[]? FinishedMac { get; private set; }

    public byte[]? ClientFinished { get; private set; }

    /// <summary>Where the session's sequence numbering continues.</summary>
    public ushort NextSequence => _nextSequence;

    /// <summary>When <see cref="OnTimer"/> next has something to do.</summary>
    public long Deadline => State != HandshakeState.Pending ? long.MaxValue
        : Math.Min(_startedMs + _timeoutMs, _lastAuthSentMs + (_authRetransmitDelayMs << Math.Min(_authSends - 1, MaxAuthBackoffDoublings)));

    /// <summary>Sends the first AUTH.</summary>
    public void Start(long now)
    {
        _startedMs = now;
        SendAuth(cookie: default, now);
    }

    /// <summary>A plaintext datagram from the server while the handshake is pending (sealed ones cannot belong to it).</summary>
    public void OnDatagram(ReadOnlySpan<byte> datagram, in PacketHeader header, long now)
    {
        if (State != HandshakeState.Pending || (header.Flags & PacketFlags.Encrypted) != 0)
            return;
        switch (header.Type)
        {
            case PacketType.Auth:
                OnServerAuth(datagram, header, now);
                break;
            case PacketType.Ack:
                OnServerFinished(datagram, header, now);
                break;
            case PacketType.Error when header.Error.Major == ErrorMajor.Connection:
                OnConnectionError(header.Error, datagram[header.Length..], now);
                break;
        }
    }

    /// <summary>The timeout, and the identical AUTH again with doubling delays until the server's answers arrive.</summary>
    public void OnTimer(long now)
    {
        if (State != HandshakeState.Pending)
            return;
        if (now - _startedMs >= _timeoutMs)
        {
            Fail(Failure ?? new TimeoutDisconnectException("the server did not answer the handshake"));
            return;
        }
        if (now >= Deadline)
            TransmitAuth(now);
    }

    /// <summary>Frees the ephemeral key and the keys (a session made from them holds its own copies).</summary>
    public void Dispose()
    {
        _ephemeral.Dispose();
        Keys?.Dispose();
    }

    private void SendAuth(ReadOnlySpan<byte> cookie, long now)
    {
        var signature = AuthSignature.SignClient(_privateKey, _ephemeral.PublicKey);
        _authSequence = _nextSequence++;
        var headerLength = PacketWriter.AuthHeaderLength(_certificate.Length, _ephemeral.PublicKey.Length, signature.Length);
        // DATA: COOKIE_LEN, COOKIE, FALLBACK, then zero padding to at least 1200 bytes (anti-amplification, §5.5).
        var auth = new byte[ClientAuthData.DatagramLength(headerLength, cookie.Length)];
        PacketWriter.WriteAuthHeader(auth, PacketFlags.None, _authSequence, _version, _certificate, _ephemeral.PublicKey, signature);
        ClientAuthData.Write(auth.AsSpan(headerLength), cookie, _fallback);
        if (auth.Length > _maxDatagramSize)
            throw new ArgumentException("The certificate is too large for one AUTH datagram; use an RSA-2048 or ECDSA P-256 key.");
        _clientAuth = auth;
        _authSends = 0;
        TransmitAuth(now);
    }

    private void TransmitAuth(long now)
    {
        _lastAuthSentMs = now;
        _authSends++;
        _sink.Send(_clientAuth, _server);
    }

    private void OnServerAuth(ReadOnlySpan<byte> datagram, in PacketHeader header, long now)
    {
        if (Keys is not null || header.Flags != PacketFlags.Reliable)
            return;
        if (header.Version != _version)
        {
            OnFailedAnswer(ConnectionError.VersionUnsupported, new VersionUnsupportedException($"the server answered version {header.Version} to version {_version}"), tellServer: true, now);
            return;
        }
        var certificate = datagram[header.Certificate];
        var key = datagram[header.Key];
        if (!ServerCertificate.Validate(certificate, _serverPublicKey, _time.GetUtcNow())
            || !AuthSignature.VerifyServer(certificate, _clientAuth, key, datagram[header.Signature]))
        {
            OnFailedAnswer(ConnectionError.CertificateInvalid, new CertificateInvalidException("the server's certificate or signature is not valid"), tellServer: true, now);
            return;
        }
        Span<byte> sharedSecret = stackalloc byte[EphemeralKey.SharedSecretSize];
        if (!_ephemeral.TryDeriveSharedSecret(key, sharedSecret))
        {
            OnFailedAnswer(ConnectionError.Connection, new ConnectionException($"the server's ephemeral key is not a valid {_ephemeral.Algorithm} key"), tellServer: true, now);
            return;
        }
        Span<byte> transcript = stackalloc byte[32];
        SessionKeys.ComputeTranscriptHash(_clientAuth, datagram, transcript);
        Keys = SessionKeys.Derive(sharedSecret, transcript);
        CryptographicOperations.ZeroMemory(sharedSecret);
        ServerAuth = datagram.ToArray();
        _serverAuthSequence = header.Sequence;
        if (_earlyFinishedAck is { } early)
        {
            _earlyFinishedAck = null;
            PacketReader.TryRead(early, out var earlyHeader, out _);
            OnServerFinished(early, earlyHeader, now);
        }
    }

    private void OnServerFinished(ReadOnlySpan<byte> datagram, in PacketHeader header, long now)
    {
        var finished = datagram[header.Length..];
        if (header.Flags != PacketFlags.None || header.AckId != _authSequence || finished.Length != SessionKeys.FinishedSize)
            return;
        if (Keys is null)
        {
            _earlyFinishedAck = datagram.ToArray(); // reordered ahead of the AUTH
            return;
        }
        if (!Keys.VerifyServerFinished(finished))
        {
            OnFailedAnswer(ConnectionError.FinishInvalid, new FinishInvalidException("the server's Finished did not verify"), tellServer: true, now);
            return;
        }
        ServerFinishedAck = datagram.ToArray();
        // Our Finished ACK: SEQ = c + 1 (the AUTH took c), ACK_ID = the server AUTH's SEQ (§5.1).
        var ack = PacketHeader.Create(PacketType.Ack, PacketFlags.Reliable, _nextSequence++);
        ack.AckId = _serverAuthSequence;
        var mac = new byte[SessionKeys.FinishedSize];
        Keys.ComputeClientFinished(mac);
        var finishedAck = new byte[PacketWriter.HeaderLength(PacketType.Ack, PacketFlags.Reliable) + mac.Length];
        mac.CopyTo(finishedAck.AsSpan(PacketWriter.WriteHeader(finishedAck, ack)));
        FinishedHeader = ack;
        FinishedMac = mac;
        ClientFinished = finishedAck;
        State = HandshakeState.Completed;
    }

    private void OnConnectionError(ErrorCode code, ReadOnlySpan<byte> data, long now)
    {
        if (code.Connection == ConnectionError.Retry)
        {
            if (Keys is not null || ++_retries > MaxRetries || data.Length > byte.MaxValue)
                return;
            SendAuth(data, now);
            return;
        }
        if (code.Connection == ConnectionError.VersionUnsupported && OnVersionUnsupported(data, now))
            return;
        OnFailedAnswer(code.Connection, PaperclipException.FromCode(code, "refused by the server"), tellServer: false, now);
    }

    // §5.1: ignored after a valid server AUTH or when it lists the version asked for (a spoof);
    // a refused fallback ends the attempt (the first refusal was forged); otherwise the highest
    // listed version below ours, when the configuration allows falling back. True when handled.
    private bool OnVersionUnsupported(ReadOnlySpan<byte> accepted, long now)
    {
        if (Keys is not null || (accepted.IsEmpty ? _version == ProtocolConstants.Version1 : accepted.Contains(_version)))
            return true;
        if (_fallback != 0)
        {
            Fail(new VersionUnsupportedException($"the server refused version {_version} after refusing version {_fallback}"));
            return true;
        }
        byte lower = 0;
        if (accepted.IsEmpty)
            lower = ProtocolConstants.Version1;
        foreach (var version in accepted)
        {
            if (version >= ProtocolConstants.Version1 && version < _version && version > lower)
                lower = version;
        }
        if (!_allowFallback || lower == 0)
            return false;
        // A new SEQ and a new KEY, of an algorithm the lower version has (§5.1, §6.1).
        _fallback = _firstVersion;
        _version = lower;
        _ephemeral.Dispose();
        _ephemeral = EphemeralKey.Generate(KeyAgreement.P256);
        SendAuth(default, now);
        return true;
    }

    // One refusal or one answer that did not verify: the AUTH again at once (a corrupted copy of
    // it may be what the server refused or answered), until the limit.
    private void OnFailedAnswer(ConnectionError error, PaperclipException exception, bool tellServer, long now)
    {
        Failure = exception;
        if (++_failedAnswers < MaxFailedAnswers)
        {
            TransmitAuth(now);
            return;
        }
        if (tellServer)
        {
            var header = PacketHeader.Create(PacketType.Error, PacketFlags.None, 0);
            header.Error = ErrorCode.Of(error);
            Span<byte> datagram = stackalloc byte[PacketWriter.HeaderLength(PacketType.Error, PacketFlags.None)];
            PacketWriter.WriteHeader(datagram, header);
            _sink.Send(datagram, _server);
        }
        Fail(exception);
    }

    private void Fail(PaperclipException exception)
    {
        Failure = exception;
        State = HandshakeState.Failed;
    }
}
