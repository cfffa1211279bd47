using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Paperclip.Protocol;
using Paperclip.Protocol.Certificates;
using Paperclip.Protocol.Crypto;
using Paperclip.Transport;
using Paperclip.Transport.Internal;
using Paperclip.Transport.Internal.Handshake;
using Paperclip.Transport.Internal.Io;

namespace Paperclip.Fuzz.Targets;

/// <summary>
/// <c>handshake</c>: the transport's handshake state machines, without sockets, on a script of
/// steps. The client (<see cref="ClientHandshake"/> with the vector account and one of the
/// vectors' ephemeral keys, so that its first AUTH is the vectors' byte for byte) reads whatever
/// arrives from the server's address: answers, RETRY cookies, VERSION_UNSUPPORTED, refusals,
/// anything. The server reads the client's AUTH as <c>PaperclipServer</c> does: VERSION, its DATA
/// (COOKIE_LEN, COOKIE, FALLBACK, padding) through <see cref="ClientAuthData"/> and
/// <see cref="AddressValidation"/>, the KEY's form; it answers with a <see cref="ServerHandshake"/>
/// (the vector server key) and checks the client's Finished. Promised: no exception; every AUTH
/// the client sends is readable, 1200 bytes up to its datagram size, of the version asked for
/// (or, falling back when allowed, a lower one naming it in FALLBACK), its DATA the cookie of a
/// RETRY it received (or none), FALLBACK and zeros; the server takes only cookies it made, and
/// takes those while they are fresh; a client completes only with answers the server key made
/// for its AUTH, and then the server completes on its Finished with the same keys.
/// </summary>
/// <remarks>
/// Input: CONFIG u8, then records of STEP u8, LEN u16, BYTES (LEN bytes); the first
/// <see cref="MaxSteps"/> count. CONFIG's bits 0–1 pick the client: version 1 (P-256), version 2
/// with P-256, version 2 with X25519, the same allowed to fall back; bit 2 lets the client send
/// datagrams of up to <see cref="LargeDatagramSize"/> bytes (as a server configured alike takes
/// them), so that the RSA-2048 account's version-1 AUTH has room for a cookie: at 1200 it has
/// not; bit 3 makes the server accept version 1 only.
/// STEP's top 4 bits advance the clock by 100 ms each first (the client's AUTH timer runs when
/// due). Its low 2 bits say what happens: 0, BYTES arrive at the client from the server's
/// address; 1, the client's last AUTH arrives at the server, cookies demanded when bit 2 is set;
/// 2, the last server handshake's answers arrive at the client, the Finished ACK first when bit 2
/// is set; 3, the client's Finished ACK arrives at that server handshake. In 1–3, BYTES (OFFSET
/// u16, then bytes) are XORed into the datagram from OFFSET: corruption in flight.
/// </remarks>
public static class HandshakeTarget
{
    private const int MaxSteps = 32;
    private const int MillisecondsPerTick = 100;
    private const int LargeDatagramSize = 1400;

    private static readonly SocketAddress ClientAddress = new IPEndPoint(IPAddress.Parse("192.0.2.1"), 40_000).Serialize();
    private static readonly SocketAddress ServerAddress = new IPEndPoint(IPAddress.Parse("192.0.2.2"), 7777).Serialize();
    private static readonly PaperclipServerOptions ServerOptions = new();
    private static readonly TransportSettings ServerSettings = new(ServerOptions);
    // Cookies younger than this must pass (the lifetime counts whole seconds).
    private static readonly TimeSpan FreshCookieAge = ServerOptions.CookieLifetime - TimeSpan.FromSeconds(2);
    private static readonly byte[] AccountCertificate = VectorData.Base64("account", "certificate_b64");
    private static readonly AsymmetricAlgorithm AccountPrivateKey = ImportAccountKey();
    private static readonly byte[] ServerCertificate = VectorData.Base64("server", "certificate_b64");
    private static readonly AsymmetricAlgorithm ServerPrivateKey = AccountKey.ImportPrivateKey(VectorData.Base64("server", "private_key_pkcs8_b64"));
    private static readonly ClientKind[] Clients =
    [
        new(ProtocolConstants.Version1, AllowFallback: false, VectorData.Root.GetProperty("handshake"), static v => EphemeralKey.FromPrivateScalar(Hex(v, "client_ephemeral_private_scalar_hex"))),
        new(ProtocolConstants.Version2, AllowFallback: false, Version2Handshake(0), static v => EphemeralKey.FromPrivateScalar(Hex(v, "client_ephemeral_p256_scalar_hex"))),
        new(ProtocolConstants.Version2, AllowFallback: false, Version2Handshake(1), static v => EphemeralKey.FromX25519PrivateKey(Hex(v, "client_ephemeral_x25519_private_hex"))),
        new(ProtocolConstants.Version2, AllowFallback: true, Version2Handshake(1), static v => EphemeralKey.FromX25519PrivateKey(Hex(v, "client_ephemeral_x25519_private_hex"))),
    ];
    private static readonly ServerCredentials Credentials = new(ServerCertificate, ServerPrivateKey);

    public static void Run(ReadOnlySpan<byte> input)
    {
        var reader = new SpanReader(input);
        if (!reader.TryReadByte(out var config))
            return;
        using var run = new Script(Clients[config & 3], largeDatagrams: (config & 4) != 0, serverVersion1Only: (config & 8) != 0);
        for (var steps = 0; steps < MaxSteps && reader.TryReadByte(out var step) && reader.TryReadUInt16(out var length) && reader.TrySkip(length, out var start); steps++)
        {
            run.Elapse((step >> 4) * MillisecondsPerTick);
            var bytes = input.Slice(start, length);
            var variant = (step & 4) != 0;
            switch (step & 3)
            {
                case 0:
                    run.ToClient(bytes);
                    break;
                case 1:
                    run.ToServer(bytes, cookiesDemanded: variant);
                    break;
                case 2:
                    run.AnswersToClient(bytes, finishedFirst: variant);
                    break;
                default:
                    run.FinishedToServer(bytes);
                    break;
            }
        }
        run.CheckCompletion();
    }

    private static JsonElement Version2Handshake(int index) => VectorData.Root.GetProperty("version2").GetProperty("handshakes")[index];

    private static byte[] Hex(JsonElement vector, string property) => Convert.FromHexString(vector.GetProperty(property).GetString()!);

    // A client configuration, its vector handshake (its first AUTH and the answers to it) and ephemeral key.
    private sealed record ClientKind(byte Version, bool AllowFallback, JsonElement Vector, Func<JsonElement, EphemeralKey> EphemeralKey)
    {
        public byte[] ServerAuth { get; } = Hex(Vector, "server_auth_hex");

        public byte[] ClientFinished { get; } = Hex(Vector, "client_finished_ack_hex");
    }

    private static AsymmetricAlgorithm ImportAccountKey() =>
        AccountKey.TryImportEncrypted(VectorData.Base64("account", "encrypted_private_key_pkcs8_b64"), VectorData.AccountPassword, out var key)
            ? key : throw new InvalidOperationException("The vector account key does not import.");

    // One input's client, server and clock.
    private sealed class Script : IDatagramSink, IDisposable
    {
        private readonly FakeTimeProvider _clock = new(VectorData.CheckTime);
        private readonly ClientKind _kind;
        private readonly byte[] _acceptedVersions;
        private readonly TransportSettings _clientSettings;
        private readonly ClientHandshake _client;
        private readonly AddressValidation _validation;
        private readonly KnownKeysCertificateValidator _validator;
        private readonly List<ServerHandshake> _servers = [];
        private readonly List<(byte[] Cookie, long IssuedMs)> _issuedCookies = [];
        private readonly List<byte[]> _retryCookies = [[]];
        private byte[] _lastAuth = [];
        private long _now;

        public Script(ClientKind kind, bool largeDatagrams, bool serverVersion1Only)
        {
            _kind = kind;
            _acceptedVersions = serverVersion1Only ? [ProtocolConstants.Version1] : [ProtocolConstants.Version1, ProtocolConstants.Version2];
            var clientOptions = new PaperclipClientOptions { TimeProvider = _clock };
            if (largeDatagrams)
                clientOptions.MaxDatagramSize = LargeDatagramSize;
            _clientSettings = new TransportSettings(clientOptions);
            _client = new ClientHandshake(AccountCertificate, AccountPrivateKey, VectorData.ServerPublicKey, _clientSettings,
                (long)new PaperclipClientOptions().AuthRetransmitDelay.TotalMilliseconds, this, ServerAddress, kind.Version, kind.AllowFallback, kind.EphemeralKey(kind.Vector));
            _validation = new AddressValidation(CookieMode.Always, ServerOptions.CookiePendingThreshold, ServerOptions.CookieAuthRateThreshold, _clock, ServerOptions.CookieLifetime);
            _validator = new KnownKeysCertificateValidator(_clock);
            _validator.Add(VectorData.Root.GetProperty("account").GetProperty("account-id").GetInt64(), VectorData.AccountPublicKey);
            _client.Start(_now);
        }

        public void Elapse(long milliseconds)
        {
            _now += milliseconds;
            _clock.Advance(TimeSpan.FromMilliseconds(milliseconds));
            if (_client.State == HandshakeState.Pending && _now >= _client.Deadline)
                _client.OnTimer(_now);
        }

        // What PaperclipClient does with a datagram from its server while the handshake is pending.
        public void ToClient(ReadOnlySpan<byte> datagram)
        {
            if (!PacketReader.TryRead(datagram, out var header, out _))
                return;
            if (header.Type == PacketType.Error && header.Error.Major == ErrorMajor.Connection && header.Error.Connection == ConnectionError.Retry)
                _retryCookies.Add(datagram[header.Length..].ToArray());
            _client.OnDatagram(datagram, header, _now);
        }

        // What PaperclipServer.OnAuth checks, in its order, up to the answers.
        public void ToServer(ReadOnlySpan<byte> corruption, bool cookiesDemanded)
        {
            var auth = Corrupted(_lastAuth, corruption);
            if (!PacketReader.TryRead(auth, out var header, out _) || header.Type != PacketType.Auth
                || auth.Length < ProtocolConstants.MinClientAuthSize || header.Flags != PacketFlags.None)
                return;
            // VERSION first; a FALLBACK naming a version the server accepts means a forged refusal.
            var maxVersion = _acceptedVersions[^1];
            if (header.Version < ProtocolConstants.Version1 || header.Version > maxVersion
                || (ClientAuthData.TryRead(auth.AsSpan(header.Length), out _, out var fallback) && fallback != 0 && fallback <= maxVersion))
            {
                Refuse(ConnectionError.VersionUnsupported, _acceptedVersions);
                return;
            }
            if (!EphemeralKey.TryIdentify(auth.AsSpan(header.Key), out var keyAgreement) || (keyAgreement == KeyAgreement.X25519 && header.Version < ProtocolConstants.Version2))
            {
                Refuse(ConnectionError.Connection, default);
                return;
            }
            if (cookiesDemanded && !HasValidCookie(auth, header))
                return;

            var server = new ServerHandshake(ClientAddress, auth, header.Version, keyAgreement, header.Certificate, header.Key, header.Signature, header.Sequence, _now,
                ServerSettings.HandshakeTimeoutMs, (long)ServerSettings.InitialRetransmissionTimeoutMs, static (_, _) => { })
            {
                BytesReceived = auth.Length,
            };
            _servers.Add(server);
            var validation = _validator.ValidateAsync(server.Certificate, CancellationToken.None);
            var identity = validation.IsCompletedSuccessfully ? validation.Result : throw new FindingException("The certificate check did not complete at once.");
            if (identity is null || !AuthSignature.VerifyClient(server.Certificate.Span, server.ClientKeySpan, server.Signature))
                Refuse(ConnectionError.CertificateInvalid, default);
            else if (!server.Answer(identity, Credentials, _now))
                Refuse(ConnectionError.Connection, default);
        }

        public void AnswersToClient(ReadOnlySpan<byte> corruption, bool finishedFirst)
        {
            if (_servers.Count == 0 || _servers[^1] is not { Ready: true } server)
                return;
            if (finishedFirst)
                ToClient(server.ServerFinishedAck);
            ToClient(Corrupted(server.ServerAuth!, corruption));
            if (!finishedFirst)
                ToClient(server.ServerFinishedAck);
        }

        public void FinishedToServer(ReadOnlySpan<byte> corruption)
        {
            if (_client.ClientFinished is not { } finished || _servers.Count == 0 || _servers[^1] is not { Ready: true } server)
                return;
            var datagram = Corrupted(finished, corruption);
            if (!PacketReader.TryRead(datagram, out var header, out _) || header.Type != PacketType.Ack || header.Flags != PacketFlags.Reliable)
                return;
            lock (server.Lock)
                server.OnClientFinished(datagram, header);
        }

        /// <summary>A client that completed did so with the server key's answers to its AUTH: that server completes on its Finished, with the same keys.</summary>
        public void CheckCompletion()
        {
            if (_client.State != HandshakeState.Completed)
                return;
            var server = _servers.FirstOrDefault(s => s.ServerAuth is { } answer && answer.AsSpan().SequenceEqual(_client.ServerAuth));
            if (server is null)
            {
                // The only other answers the server key made: the vectors', to the vectors' AUTH.
                if (!_client.ServerAuth.AsSpan().SequenceEqual(_kind.ServerAuth) || !_client.ClientFinished.AsSpan().SequenceEqual(_kind.ClientFinished))
                    throw new FindingException("The client completed with answers the server key did not make for its AUTH.");
                return;
            }
            if (!server.ClientAuth.AsSpan().SequenceEqual(_lastAuth))
                throw new FindingException("The client completed with answers to another AUTH than its last.");
            if (!PacketReader.TryRead(_client.ClientFinished, out var header, out _))
                throw new FindingException("The client's Finished ACK does not read.");
            lock (server.Lock)
            {
                if (server.OnClientFinished(_client.ClientFinished, header) != FinishedOutcome.Completed)
                    throw new FindingException("The server did not complete on the Finished of a client that completed.");
            }
            CheckSameKeys(_client.Keys!, server.Keys!);
        }

        // Every datagram the client sends.
        void IDatagramSink.Send(ReadOnlySpan<byte> datagram, SocketAddress to)
        {
            if (!to.Equals(ServerAddress) || !PacketReader.TryRead(datagram, out var header, out _))
                throw new FindingException("The client sent a datagram that does not read, or not to its server.");
            if (header.Type != PacketType.Auth)
                return;
            // The version asked for, or a lower one when falling back, which FALLBACK names.
            var fellBack = header.Version < _kind.Version && _kind.AllowFallback;
            if (header.Flags != PacketFlags.None || (header.Version != _kind.Version && !fellBack)
                || datagram.Length < ProtocolConstants.MinClientAuthSize || datagram.Length > _clientSettings.MaxDatagramSize)
                throw new FindingException($"The client sent an AUTH of {datagram.Length} B with TF {header.TypeAndFlags:X2}, version {header.Version}.");
            var data = datagram[header.Length..];
            if (!ClientAuthData.TryRead(data, out var cookie, out var fallback) || !WasReceived(cookie)
                || fallback != (fellBack ? _kind.Version : 0) || data[(ClientAuthData.Overhead + cookie.Length)..].ContainsAnyExcept((byte)0))
                throw new FindingException($"The client's AUTH DATA ({Convert.ToHexString(data)}) is not a cookie it received, FALLBACK, then zeros.");
            _lastAuth = datagram.ToArray();
        }

        private bool WasReceived(ReadOnlySpan<byte> cookie)
        {
            foreach (var received in _retryCookies)
            {
                if (cookie.SequenceEqual(received))
                    return true;
            }
            return false;
        }

        public void Dispose()
        {
            _client.Dispose();
            _validation.Dispose();
            foreach (var server in _servers)
                server.Dispose();
        }

        // The cookie check of an AUTH (its DATA), and the RETRY when it fails.
        private bool HasValidCookie(byte[] auth, in PacketHeader header)
        {
            var data = auth.AsSpan(header.Length);
            var valid = _validation.HasValidCookie(data, ClientAddress);
            var cookie = data.Length > AddressValidation.CookieSize ? data.Slice(1, AddressValidation.CookieSize) : default;
            var issued = -1L;
            foreach (var (made, issuedMs) in _issuedCookies)
            {
                if (data[0] == AddressValidation.CookieSize && cookie.SequenceEqual(made))
                    issued = issuedMs;
            }
            if (valid && issued < 0)
                throw new FindingException($"The server took a cookie it did not make: {Convert.ToHexString(data)}.");
            if (!valid && issued >= 0 && _now - issued < (long)FreshCookieAge.TotalMilliseconds)
                throw new FindingException($"The server refused its own cookie, {_now - issued} ms old.");
            if (valid)
                return true;
            Span<byte> fresh = stackalloc byte[AddressValidation.CookieSize];
            _validation.CreateCookie(ClientAddress, fresh);
            _issuedCookies.Add((fresh.ToArray(), _now));
            Refuse(ConnectionError.Retry, fresh);
            return false;
        }

        // A stateless refusal from the server, as PaperclipServer sends it.
        private void Refuse(ConnectionError error, ReadOnlySpan<byte> data)
        {
            var header = PacketHeader.Create(PacketType.Error, PacketFlags.None, 0);
            header.Error = ErrorCode.Of(error);
            var datagram = new byte[PacketWriter.HeaderLength(PacketType.Error, PacketFlags.None) + data.Length];
            data.CopyTo(datagram.AsSpan(PacketWriter.WriteHeader(datagram, header)));
            ToClient(datagram);
        }

        // A copy of the datagram with the rest of CORRUPTION XORed in from its first two bytes' offset.
        private static byte[] Corrupted(byte[] datagram, ReadOnlySpan<byte> corruption)
        {
            var copy = datagram.ToArray();
            if (copy.Length == 0 || !BinaryPrimitives.TryReadUInt16BigEndian(corruption, out var offset))
                return copy;
            var at = offset % copy.Length;
            var bytes = corruption[2..];
            for (var i = 0; i < bytes.Length && at + i < copy.Length; i++)
                copy[at + i] ^= bytes[i];
            return copy;
        }

        // Keys agree when what one side seals the other opens, in both directions.
        private static void CheckSameKeys(SessionKeys client, SessionKeys server)
        {
            Span<byte> datagram = stackalloc byte[3 + 5 + ProtocolConstants.TagSize];
            foreach (var fromClient in (bool[])[true, false])
            {
                using var sender = (fromClient ? client : server).CreateSender(isClient: fromClient);
                using var receiver = (fromClient ? server : client).CreateReceiver(isClient: !fromClient);
                var length = sender.Seal(datagram, 3, 5, packetNumber: 7);
                if (!receiver.TryOpen(datagram[..length], 3, 7, out _))
                    throw new FindingException("The client's and the server's keys differ.");
            }
        }
    }
}
