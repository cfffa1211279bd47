using System.Net;
using Microsoft.Extensions.Time.Testing;
using Paperclip.Protocol;
using Paperclip.Protocol.Certificates;
using Paperclip.Protocol.Crypto;
using Paperclip.Protocol.Tests;
using Paperclip.Transport.Internal;
using Paperclip.Transport.Internal.Handshake;
using Paperclip.Transport.Internal.Io;

namespace Paperclip.Transport.Tests.Handshake;

/// <summary>
/// The handshake state machines without sockets: the server's against the independent
/// implementation's client (its exact AUTH and ephemeral key, from the vectors), and our client
/// against our server, datagram by datagram.
/// </summary>
public sealed class HandshakeStateMachineTests
{
    private static readonly SocketAddress Peer = new IPEndPoint(IPAddress.IPv6Loopback, 40_000).Serialize();

    [Fact]
    public void Server_handshake_answers_the_vector_client_and_accepts_its_finished()
    {
        var vectors = Vectors.Root.GetProperty("handshake");
        var serverVectors = Vectors.Root.GetProperty("server");
        var clientAuth = vectors.Hex("client_auth_hex");
        var handshake = ServerHandshakeFor(clientAuth);
        var certificate = serverVectors.Base64("certificate_b64");
        using var serverKey = AccountKey.ImportPrivateKey(serverVectors.Base64("private_key_pkcs8_b64"));

        Assert.True(handshake.Answer(new ClientIdentity(1, "Mario"), new ServerCredentials(certificate, serverKey), now: 0));

        // The vector client checks our AUTH, derives the keys with its own ephemeral key, and checks SF.
        Assert.True(PacketReader.TryRead(handshake.ServerAuth, out var auth, out _));
        Assert.Equal((HandshakeSequences.ServerAuth, PacketFlags.Reliable), (auth.Sequence, auth.Flags));
        Assert.True(AuthSignature.VerifyServer(handshake.ServerAuth.AsSpan(auth.Certificate), clientAuth, handshake.ServerAuth.AsSpan(auth.Key), handshake.ServerAuth.AsSpan(auth.Signature)));
        using var clientKeys = VectorClientKeys(clientAuth, handshake.ServerAuth!, handshake.ServerAuth.AsSpan(auth.Key));
        Assert.True(PacketReader.TryRead(handshake.ServerFinishedAck, out var sf, out _));
        Assert.Equal((HandshakeSequences.ServerFinished, (ushort)0), (sf.Sequence, sf.AckId));
        Assert.True(clientKeys.VerifyServerFinished(handshake.ServerFinishedAck.AsSpan(sf.Length)));

        var finished = ClientFinished(clientKeys, sequence: 1, ackId: auth.Sequence);
        Assert.True(PacketReader.TryRead(finished, out var cf, out _));
        lock (handshake.Lock)
            Assert.Equal(FinishedOutcome.Completed, handshake.OnClientFinished(finished, cf));
        AssertSameKeys(clientKeys, handshake.Keys!);
    }

    [Fact]
    public void Server_handshake_refuses_a_finished_that_does_not_verify_after_three()
    {
        var clientAuth = Vectors.Root.GetProperty("handshake").Hex("client_auth_hex");
        var serverVectors = Vectors.Root.GetProperty("server");
        var handshake = ServerHandshakeFor(clientAuth);
        using var serverKey = AccountKey.ImportPrivateKey(serverVectors.Base64("private_key_pkcs8_b64"));
        Assert.True(handshake.Answer(new ClientIdentity(1, "Mario"), new ServerCredentials(serverVectors.Base64("certificate_b64"), serverKey), now: 0));
        Assert.True(PacketReader.TryRead(handshake.ServerAuth, out var auth, out _));
        using var clientKeys = VectorClientKeys(clientAuth, handshake.ServerAuth!, handshake.ServerAuth.AsSpan(auth.Key));

        var forged = ClientFinished(clientKeys, sequence: 1, ackId: auth.Sequence);
        forged[^1] ^= 1;
        Assert.True(PacketReader.TryRead(forged, out var header, out _));
        var wrongSequence = ClientFinished(clientKeys, sequence: 7, ackId: auth.Sequence);
        Assert.True(PacketReader.TryRead(wrongSequence, out var wrongHeader, out _));
        lock (handshake.Lock)
        {
            Assert.Equal(FinishedOutcome.Invalid, handshake.OnClientFinished(forged, header));
            Assert.Equal(FinishedOutcome.Invalid, handshake.OnClientFinished(wrongSequence, wrongHeader)); // SEQ is outside the MAC, but must be c + 1
            Assert.Equal(FinishedOutcome.Refused, handshake.OnClientFinished(forged, header));
        }
    }

    [Fact]
    public void Client_and_server_state_machines_complete_a_handshake_datagram_by_datagram()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var account = TestPki.Account(1, validator: null);
        var options = TestPki.Shared.ClientOptions(account, o => o.TimeProvider = clock);
        var toServer = new CapturingSink();
        using var client = new ClientHandshake(account.Certificate, account.Key, TestPki.Shared.ServerPublicKey, new TransportSettings(options), 250, toServer, Peer, ProtocolConstants.Version2, allowFallback: false, EphemeralKey.Generate(KeyAgreement.X25519));

        client.Start(now: 0);
        var clientAuth = Assert.Single(toServer.Datagrams);
        Assert.True(clientAuth.Length >= ProtocolConstants.MinClientAuthSize);
        var server = ServerHandshakeFor(clientAuth);
        Assert.True(server.Answer(new ClientIdentity(1, account.Username), new ServerCredentials(TestPki.Shared.ServerCertificate, TestPki.Shared.ServerKey), now: 0));

        // The answers arrive reordered: SF first (kept until the AUTH gives the keys), then AUTH.
        Deliver(client, server.ServerFinishedAck!, now: 5);
        Assert.Equal(HandshakeState.Pending, client.State);
        Deliver(client, server.ServerAuth!, now: 6);
        Assert.Equal(HandshakeState.Completed, client.State);
        Assert.Equal((ushort)1, client.FinishedHeader.Sequence); // c + 1
        Assert.Equal((ushort)2, client.NextSequence);

        Assert.True(PacketReader.TryRead(client.ClientFinished, out var cf, out _));
        lock (server.Lock)
            Assert.Equal(FinishedOutcome.Completed, server.OnClientFinished(client.ClientFinished, cf));
        AssertSameKeys(client.Keys!, server.Keys!);
        server.Dispose();
    }

    [Fact]
    public void Client_handshake_repeats_its_auth_with_doubling_delays_then_times_out()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var account = TestPki.Account(2, validator: null);
        var settings = new TransportSettings(TestPki.Shared.ClientOptions(account, o =>
        {
            o.TimeProvider = clock;
            o.HandshakeTimeout = TimeSpan.FromSeconds(10);
        }));
        var sink = new CapturingSink();
        using var client = new ClientHandshake(account.Certificate, account.Key, TestPki.Shared.ServerPublicKey, settings, 250, sink, Peer, ProtocolConstants.Version2, allowFallback: false, EphemeralKey.Generate(KeyAgreement.X25519));

        client.Start(now: 0);
        var sentAt = new List<long> { 0 };
        for (var now = 1L; client.State == HandshakeState.Pending; now++)
        {
            if (now < client.Deadline)
                continue;
            var before = sink.Datagrams.Count;
            client.OnTimer(now);
            if (sink.Datagrams.Count > before)
                sentAt.Add(now);
        }
        Assert.Equal([0L, 250, 750, 1750, 3750, 7750], sentAt);
        Assert.Equal(HandshakeState.Failed, client.State);
        Assert.IsType<TimeoutDisconnectException>(client.Failure);
        Assert.All(sink.Datagrams, d => Assert.Equal(sink.Datagrams[0], d)); // the identical AUTH each time
    }

    [Fact]
    public void Client_handshake_follows_a_retry_with_the_cookie_and_a_new_sequence()
    {
        var account = TestPki.Account(3, validator: null);
        var settings = new TransportSettings(TestPki.Shared.ClientOptions(account));
        var sink = new CapturingSink();
        using var client = new ClientHandshake(account.Certificate, account.Key, TestPki.Shared.ServerPublicKey, settings, 250, sink, Peer, ProtocolConstants.Version2, allowFallback: false, EphemeralKey.Generate(KeyAgreement.X25519));
        client.Start(now: 0);

        var cookie = Enumerable.Range(1, 20).Select(i => (byte)i).ToArray();
        Deliver(client, Refusal(ConnectionError.Retry, cookie), now: 10);

        Assert.Equal(2, sink.Datagrams.Count);
        Assert.True(PacketReader.TryRead(sink.Datagrams[1], out var second, out _));
        Assert.Equal((ushort)1, second.Sequence);
        var data = sink.Datagrams[1].AsSpan(second.Length);
        Assert.Equal(cookie.Length, data[0]);
        Assert.Equal(cookie, data.Slice(1, cookie.Length).ToArray());
        Assert.Equal(HandshakeState.Pending, client.State);
    }

    [Fact]
    public void Client_handshake_takes_a_retry_whose_cookie_does_not_fit_in_its_auth_as_a_refusal()
    {
        // Found by the handshake fuzz target: with the vectors' RSA-2048 account a 1200-byte AUTH of
        // version 1 (P-256 KEY) has 11 bytes of DATA, no room for a 20-byte cookie and FALLBACK, and
        // the RETRY threw on the receive path.
        var account = Vectors.Root.GetProperty("account");
        Assert.True(AccountKey.TryImportEncrypted(account.Base64("encrypted_private_key_pkcs8_b64"), account.GetProperty("password").GetString(), out var key));
        using (key)
        {
            var sink = new CapturingSink();
            using var client = new ClientHandshake(account.Base64("certificate_b64"), key, Vectors.Root.GetProperty("server").Base64("public_key_spki_b64"),
                new TransportSettings(new PaperclipClientOptions()), 250, sink, Peer, ProtocolConstants.Version1, allowFallback: false, EphemeralKey.Generate(KeyAgreement.P256));
            client.Start(now: 0);

            Deliver(client, Refusal(ConnectionError.Retry, new byte[AddressValidation.CookieSize]), now: 10);

            // The same AUTH again at once, as after any refusal that may be spoofed; the reason kept for the end.
            Assert.Equal(2, sink.Datagrams.Count);
            Assert.Equal(sink.Datagrams[0], sink.Datagrams[1]);
            Assert.Equal(HandshakeState.Pending, client.State);
            var failure = Assert.IsType<ConnectionException>(client.Failure);
            Assert.Contains("cookie", failure.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Client_handshake_gives_up_when_its_fallback_auth_is_refused()
    {
        // Found writing the handshake fuzz target's seeds: a server of versions 1 and 2 refuses a
        // FALLBACK AUTH with DATA 01 02, which lists the version the fallback asks for, and the
        // client took that for a spoof and waited for the timeout.
        var account = TestPki.Account(4, validator: null);
        var sink = new CapturingSink();
        using var client = new ClientHandshake(account.Certificate, account.Key, TestPki.Shared.ServerPublicKey, new TransportSettings(TestPki.Shared.ClientOptions(account)), 250, sink, Peer,
            ProtocolConstants.Version2, allowFallback: true, EphemeralKey.Generate(KeyAgreement.X25519));
        client.Start(now: 0);
        Deliver(client, Refusal(ConnectionError.VersionUnsupported, [ProtocolConstants.Version1]), now: 10);
        Assert.Equal(2, sink.Datagrams.Count);
        Assert.True(PacketReader.TryRead(sink.Datagrams[1], out var fallback, out _));
        Assert.Equal(ProtocolConstants.Version1, fallback.Version);

        Deliver(client, Refusal(ConnectionError.VersionUnsupported, [ProtocolConstants.Version1, ProtocolConstants.Version2]), now: 20);

        Assert.Equal(HandshakeState.Failed, client.State);
        Assert.IsType<VersionUnsupportedException>(client.Failure);
    }

    private static byte[] Refusal(ConnectionError error, byte[] data)
    {
        var header = PacketHeader.Create(PacketType.Error, PacketFlags.None, 0);
        header.Error = ErrorCode.Of(error);
        var datagram = new byte[PacketWriter.HeaderLength(PacketType.Error, PacketFlags.None) + data.Length];
        data.CopyTo(datagram.AsSpan(PacketWriter.WriteHeader(datagram, header)));
        return datagram;
    }

    private static ServerHandshake ServerHandshakeFor(byte[] clientAuth)
    {
        Assert.True(PacketReader.TryRead(clientAuth, out var header, out _));
        Assert.True(EphemeralKey.TryIdentify(clientAuth.AsSpan(header.Key), out var keyAgreement));
        return new ServerHandshake(Peer, clientAuth, header.Version, keyAgreement, header.Certificate, header.Key, header.Signature, header.Sequence, nowMs: 0,
            timeoutMs: 10_000, firstRetryMs: 200, onTimer: (_, _) => { })
        {
            BytesReceived = clientAuth.Length,
        };
    }

    private static SessionKeys VectorClientKeys(byte[] clientAuth, byte[] serverAuth, ReadOnlySpan<byte> serverKey)
    {
        using var ephemeral = EphemeralKey.FromPrivateScalar(Vectors.Root.GetProperty("handshake").Hex("client_ephemeral_private_scalar_hex"));
        Span<byte> z = stackalloc byte[32];
        Assert.True(ephemeral.TryDeriveSharedSecret(serverKey, z));
        Span<byte> transcript = stackalloc byte[32];
        SessionKeys.ComputeTranscriptHash(clientAuth, serverAuth, transcript);
        return SessionKeys.Derive(z, transcript);
    }

    private static byte[] ClientFinished(SessionKeys keys, ushort sequence, ushort ackId)
    {
        var header = PacketHeader.Create(PacketType.Ack, PacketFlags.Reliable, sequence);
        header.AckId = ackId;
        var datagram = new byte[PacketWriter.HeaderLength(PacketType.Ack, PacketFlags.Reliable) + SessionKeys.FinishedSize];
        keys.ComputeClientFinished(datagram.AsSpan(PacketWriter.WriteHeader(datagram, header)));
        return datagram;
    }

    private static void Deliver(ClientHandshake client, byte[] datagram, long now)
    {
        Assert.True(PacketReader.TryRead(datagram, out var header, out _));
        client.OnDatagram(datagram, header, now);
    }

    // Keys agree when what one side seals the other opens, in both directions.
    private static void AssertSameKeys(SessionKeys client, SessionKeys server)
    {
        foreach (var fromClient in new[] { true, false })
        {
            using var sender = (fromClient ? client : server).CreateSender(isClient: fromClient);
            using var receiver = (fromClient ? server : client).CreateReceiver(isClient: !fromClient);
            var datagram = new byte[3 + 5 + ProtocolConstants.TagSize];
            "hello"u8.CopyTo(datagram.AsSpan(3));
            var length = sender.Seal(datagram, 3, 5, packetNumber: 7);
            Assert.True(receiver.TryOpen(datagram.AsSpan(0, length), 3, 7, out var plaintext));
            Assert.Equal("hello"u8.ToArray(), datagram.AsSpan(3, plaintext).ToArray());
        }
    }

    private sealed class CapturingSink : IDatagramSink
    {
        public List<byte[]> Datagrams { get; } = [];

        public void Send(ReadOnlySpan<byte> datagram, SocketAddress to) => Datagrams.Add(datagram.ToArray());
    }
}
