using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Paperclip.Protocol;
using Paperclip.Protocol.Certificates;
using Paperclip.Protocol.Crypto;

namespace Paperclip.Transport.Tests.Hardening;

/// <summary>
/// Issue 7, scenario 4: the handshake against floods, amplification, replays, stolen
/// certificates, stolen or stale cookies, tampering and invalid curve points.
/// </summary>
public sealed class HandshakeAttackTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>Sockets on many source ports that count what they send and what comes back to each.</summary>
    private sealed class Attackers : IDisposable
    {
        private readonly Socket[] _sockets;
        private readonly long[] _sent;
        private readonly long[] _received;
        private readonly long[] _answers;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task[] _loops;

        public Attackers(int count)
        {
            _sockets = new Socket[count];
            _sent = new long[count];
            _received = new long[count];
            _answers = new long[count];
            _loops = new Task[count];
            for (var i = 0; i < count; i++)
            {
                _sockets[i] = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                _sockets[i].Bind(new IPEndPoint(IPAddress.Loopback, 0));
                var index = i;
                _loops[i] = Task.Run(() => ReceiveAsync(index));
            }
        }

        public int Count => _sockets.Length;

        public long Sent(int i) => Interlocked.Read(ref _sent[i]);

        public long Received(int i) => Interlocked.Read(ref _received[i]);

        public long TotalAnswers => _answers.Sum();

        public ConcurrentQueue<(int Socket, byte[] Datagram)> Inbox { get; } = new();

        public void Send(int i, ReadOnlySpan<byte> datagram, IPEndPoint to)
        {
            Interlocked.Add(ref _sent[i], datagram.Length);
            _sockets[i].SendTo(datagram, SocketFlags.None, to);
        }

        private async Task ReceiveAsync(int i)
        {
            var buffer = new byte[65536];
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    var result = await _sockets[i].ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                    // Queued before counted: a test that waits on the count then dequeues finds the datagram.
                    Inbox.Enqueue((i, buffer.AsSpan(0, result.ReceivedBytes).ToArray()));
                    Interlocked.Add(ref _received[i], result.ReceivedBytes);
                    Interlocked.Increment(ref _answers[i]);
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                    if (_stop.IsCancellationRequested)
                        return;
                }
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            foreach (var socket in _sockets)
                socket.Dispose();
            Task.WaitAll(_loops);
            _stop.Dispose();
        }
    }

    [Fact]
    public async Task Flood_of_valid_looking_AUTH_from_many_ports_never_gets_more_than_three_times_its_bytes_back()
    {
        // A captured, validly signed AUTH replayed from 200 ports: the server
        // does the full handshake for each address and retransmits its answers, within 3x.
        await using var server = ServerHarness.Start(o =>
        {
            o.HandshakeTimeout = TimeSpan.FromSeconds(3);
            o.InitialRetransmissionTimeout = TimeSpan.FromMilliseconds(20); // reach the budget within the timeout
        });
        var victim = TestPki.Account(1, server.Validator);
        using var ephemeral = EphemeralKey.Generate();
        var auth = RawClient.BuildAuth(victim, ephemeral.PublicKey, 0);
        using var attackers = new Attackers(200);
        for (var i = 0; i < attackers.Count; i++)
            attackers.Send(i, auth, server.EndPoint);
        await Wait.UntilAsync(() => server.Server.Statistics.KeyAgreements == attackers.Count, "every address got its handshake");
        // The server repeats its answers with backoff from 200 ms until its 3x budget is spent or the handshake times out.
        await Wait.UntilAsync(() => server.Server.PendingHandshakeCount == 0, "the handshakes timed out", TimeSpan.FromSeconds(30));

        var worst = 0.0;
        for (var i = 0; i < attackers.Count; i++)
        {
            Assert.True(attackers.Received(i) <= 3 * attackers.Sent(i), $"socket {i}: received {attackers.Received(i)} for {attackers.Sent(i)} sent");
            worst = Math.Max(worst, (double)attackers.Received(i) / attackers.Sent(i));
        }
        var stats = server.Server.Statistics;
        Assert.True(stats.BytesSentUnvalidated <= 3 * stats.BytesReceivedUnvalidated);
        Assert.True(stats.AmplificationLimited > 0, "the budget was reached at least once");
        Assert.Equal(0, stats.HandshakesCompleted);
        Assert.Equal(0, server.Server.ConnectionCount);
        TestContext.Current.TestOutputHelper?.WriteLine($"AUTH flood: 200 ports x 1 AUTH; worst ratio {worst:F2}; server sent {stats.BytesSentUnvalidated} B for {stats.BytesReceivedUnvalidated} B; {stats.AmplificationLimited} held back");
    }

    [Fact]
    public async Task AUTH_below_1200_bytes_gets_no_answer()
    {
        await using var server = ServerHarness.Start();
        var account = TestPki.Account(2, server.Validator);
        using var ephemeral = EphemeralKey.Generate();
        var full = RawClient.BuildAuth(account, ephemeral.PublicKey, 0);
        var headerLength = full.Length - full.Reverse().TakeWhile(b => b == 0).Count();
        using var attackers = new Attackers(50);
        for (var i = 0; i < attackers.Count; i++)
        {
            // From the bare header up to 1199 bytes.
            var length = headerLength + 1 + (1199 - headerLength - 1) * i / (attackers.Count - 1);
            attackers.Send(i, full.AsSpan(0, length), server.EndPoint);
        }
        await Wait.UntilAsync(() => server.Server.Statistics.ShortAuthDropped == attackers.Count, "every short AUTH was dropped");
        // A full-size AUTH from the same kind of socket is answered: the silence was for the size.
        using var control = new Attackers(1);
        control.Send(0, full, server.EndPoint);
        await Wait.UntilAsync(() => control.TotalAnswers >= 2, "the full-size AUTH was answered");
        Assert.Equal(0, attackers.TotalAnswers);
        Assert.Equal(1, server.Server.Statistics.CertificateChecks);
    }

    [Fact]
    public async Task With_cookies_on_an_AUTH_flood_costs_no_certificate_check_and_no_ECDH()
    {
        await using var server = ServerHarness.Start(o => o.CookieMode = CookieMode.Always);
        var account = TestPki.Account(3, server.Validator);
        using var attackers = new Attackers(100);
        using var ephemeral = EphemeralKey.Generate();
        var auth = RawClient.BuildAuth(account, ephemeral.PublicKey, 0);
        var forgedCookie = new byte[20];
        Random.Shared.NextBytes(forgedCookie);
        var forged = RawClient.BuildAuth(account, ephemeral.PublicKey, 1, forgedCookie);
        for (var round = 0; round < 5; round++)
        {
            for (var i = 0; i < attackers.Count; i++)
                attackers.Send(i, round % 2 == 0 ? auth : forged, server.EndPoint);
        }
        await Wait.UntilAsync(() => server.Server.Statistics.RetriesSent == 500, "every AUTH got a RETRY");
        var stats = server.Server.Statistics;
        Assert.Equal(0, stats.CertificateChecks);
        Assert.Equal(0, stats.KeyAgreements);
        Assert.Equal(0, server.Server.PendingHandshakeCount);
        for (var i = 0; i < attackers.Count; i++)
            Assert.True(attackers.Received(i) <= 3 * attackers.Sent(i));
        Assert.All(attackers.Inbox, a => Assert.True(a.Datagram.Length < 64, "a RETRY is small"));
    }

    [Fact]
    public async Task Automatic_cookies_switch_on_under_an_AUTH_flood()
    {
        await using var server = ServerHarness.Start(o => o.CookieMode = CookieMode.Automatic);
        var account = TestPki.Account(4, server.Validator);
        using var attackers = new Attackers(300);
        var auths = Enumerable.Range(0, 10).Select(_ =>
        {
            using var key = EphemeralKey.Generate();
            return RawClient.BuildAuth(account, key.PublicKey, 0);
        }).ToArray();
        for (var round = 0; round < 10; round++)
        {
            for (var i = 0; i < attackers.Count; i++)
                attackers.Send(i, auths[round], server.EndPoint);
        }
        await Wait.UntilAsync(() => server.Server.Statistics.RetriesSent + server.Server.Statistics.CertificateChecks >= 2_500, "the flood was handled");
        var stats = server.Server.Statistics;
        // At most the 500 of the first second (and the 64 pending) before cookies start.
        Assert.InRange(stats.CertificateChecks, 1, 500 + 64 + 1);
        Assert.True(stats.RetriesSent >= 2_500 - stats.CertificateChecks);
        TestContext.Current.TestOutputHelper?.WriteLine($"automatic cookies: 3000 AUTH from 300 ports: {stats.CertificateChecks} certificate checks, {stats.RetriesSent} RETRY");
    }

    [Fact]
    public async Task Replayed_AUTH_from_another_address_or_the_victims_yields_no_session()
    {
        await using var pair = await ProxiedPair.StartAsync(server: o => o.HandshakeTimeout = TimeSpan.FromSeconds(1));
        var auth = pair.Up.First(d => d[0] == 0x40);
        var server = pair.Server.Server;
        using var attacker = new Attackers(1);
        attacker.Send(0, auth, pair.Server.EndPoint);
        pair.ToServer(auth); // from the victim's own address: a late copy of the AUTH that made its session
        await Wait.UntilAsync(() => server.Statistics.KeyAgreements == 2, "the server answered the replay");
        await Wait.UntilAsync(() => server.PendingHandshakeCount == 0, "the replayed handshake timed out");
        Assert.Equal(1, server.Statistics.HandshakesCompleted);
        Assert.Equal(1, server.ConnectionCount);
        Assert.True(pair.Connection.IsConnected);
        pair.Client.Client.Send("victim still fine"u8);
        Assert.Equal("victim still fine"u8.ToArray(), pair.Server.Received.Next().Data);
    }

    [Theory]
    [InlineData(CookieMode.Off)]
    [InlineData(CookieMode.Always)]
    public async Task Victims_certificate_with_the_attackers_key_yields_no_session(CookieMode cookies)
    {
        await using var server = ServerHarness.Start(o => o.CookieMode = cookies);
        var victim = TestPki.Account(5, server.Validator);
        using var raw = new RawClient(server.EndPoint, victim with { Key = AccountKey.Generate() });
        Assert.False(raw.Handshake(TimeSpan.FromSeconds(10)));
        await Wait.UntilAsync(() => server.Server.Statistics.HandshakesFailed == 1, "the handshake failed");
        Assert.Equal(1, server.Server.Statistics.CertificateChecks);
        Assert.Equal(0, server.Server.Statistics.KeyAgreements);
        Assert.Equal(0, server.Server.ConnectionCount);
    }

    [Fact]
    public async Task Cookie_from_another_address_or_an_expired_one_is_answered_with_a_new_RETRY()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = ServerHarness.Start(o => o.CookieMode = CookieMode.Always, clock);
        var account = TestPki.Account(6, server.Validator, now: clock.GetUtcNow());
        using var key = EphemeralKey.Generate();
        using var attackers = new Attackers(2);
        attackers.Send(0, RawClient.BuildAuth(account, key.PublicKey, 0), server.EndPoint);
        await Wait.UntilAsync(() => !attackers.Inbox.IsEmpty, "a RETRY arrived");
        Assert.True(attackers.Inbox.TryDequeue(out var retry));
        Assert.True(PacketReader.TryRead(retry.Datagram, out var header, out _));
        Assert.Equal(ErrorCode.Of(ConnectionError.Retry), header.Error);
        var cookie = retry.Datagram.AsSpan(header.Length).ToArray();

        // Another address.
        attackers.Send(1, RawClient.BuildAuth(account, key.PublicKey, 1, cookie), server.EndPoint);
        await Wait.UntilAsync(() => server.Server.Statistics.RetriesSent == 2, "the stolen cookie got a RETRY");
        // Expired: the same address, 121 s later.
        attackers.Inbox.Clear();
        clock.Advance(TimeSpan.FromSeconds(121));
        attackers.Send(0, RawClient.BuildAuth(account, key.PublicKey, 1, cookie), server.EndPoint);
        await Wait.UntilAsync(() => server.Server.Statistics.RetriesSent == 3, "the expired cookie got a RETRY");
        Assert.Equal(0, server.Server.Statistics.CertificateChecks);

        // A fresh cookie at the right address passes to the certificate check.
        await Wait.UntilAsync(() => attackers.Inbox.Any(a => a.Socket == 0), "the latest RETRY arrived");
        var fresh = attackers.Inbox.First(a => a.Socket == 0).Datagram;
        PacketReader.TryRead(fresh, out header, out _);
        attackers.Send(0, RawClient.BuildAuth(account, key.PublicKey, 2, fresh.AsSpan(header.Length)), server.EndPoint);
        await Wait.UntilAsync(() => server.Server.Statistics.CertificateChecks == 1, "the valid cookie was accepted");
        Assert.Equal(0, server.Server.ConnectionCount);
    }

    public static TheoryData<string, int> HandshakeBitFlips() => new()
    {
        // Client AUTH: TF, SEQ, VERSION, CERT_LEN, certificate, KEY_LEN, key, SIG_LEN, signature, COOKIE_LEN, padding, last byte.
        { "client AUTH", 0 }, { "client AUTH", 9 }, { "client AUTH", 24 }, { "client AUTH", 34 }, { "client AUTH", 200 * 8 + 3 },
        { "client AUTH", -1 }, { "client AUTH", -2 }, { "client AUTH", -3 }, { "client AUTH", -4 }, { "client AUTH", 1150 * 8 }, { "client AUTH", 1199 * 8 + 7 },
        // Server AUTH: TF, SEQ, certificate, key, signature.
        { "server AUTH", 0 }, { "server AUTH", 10 }, { "server AUTH", 100 * 8 + 1 }, { "server AUTH", -1 }, { "server AUTH", -2 }, { "server AUTH", -3 },
        // Server Finished ACK and client Finished ACK: TF, SEQ, ACK_ID, MAC.
        // (Their SEQ and ACK_BITS are outside the MAC and unchecked: a flip there is what dropping them would do.)
        { "server Finished", 0 }, { "server Finished", 4 }, { "server Finished", 30 }, { "server Finished", 8 * 7 + 2 }, { "server Finished", 8 * 38 + 7 },
        { "client Finished", 0 }, { "client Finished", 4 }, { "client Finished", 30 }, { "client Finished", 8 * 7 + 2 }, { "client Finished", 8 * 38 + 7 },
    };

    /// <summary>
    /// Every copy of one handshake message has one bit flipped in flight (negative positions
    /// name the fields: -1 key, -2 signature, -3 certificate, -4 COOKIE_LEN).
    /// </summary>
    [Theory]
    [MemberData(nameof(HandshakeBitFlips))]
    public async Task Bit_flip_in_a_handshake_message_yields_no_session(string message, int bit)
    {
        await using var server = ServerHarness.Start(o => o.HandshakeTimeout = TimeSpan.FromSeconds(2));
        var flipped = 0;
        await using var relay = new TamperingRelay(server.EndPoint, (datagram, toServer) =>
        {
            var target = message switch
            {
                "client AUTH" => toServer && datagram[0] == 0x40,
                "server AUTH" => !toServer && datagram[0] == 0x41,
                "server Finished" => !toServer && datagram[0] == 0x20 && datagram.Length == 39,
                _ => toServer && datagram[0] == 0x21,
            };
            if (!target)
                return datagram;
            var position = bit >= 0 ? bit : FieldBit(datagram, bit);
            datagram[position / 8] ^= (byte)(1 << (position % 8));
            Interlocked.Increment(ref flipped);
            return datagram;
        });
        var account = TestPki.Account(7, server.Validator);
        await using var client = new PaperclipClient(TestPki.Shared.ClientOptions(account, o => o.HandshakeTimeout = TimeSpan.FromSeconds(3)));
        try
        {
            await client.ConnectAsync(relay.EndPoint, Token).WaitAsync(Wait.Timeout, Token);
            Assert.Equal("client Finished", message); // only a client whose own Finished was spoiled thinks it got through
        }
        catch (PaperclipException)
        {
        }
        await Wait.UntilAsync(() => Volatile.Read(ref flipped) > 0, "the message was tampered with");
        await Wait.UntilAsync(() => server.Server.PendingHandshakeCount == 0, "the server let go of the handshake");
        Assert.Equal(0, server.Server.Statistics.HandshakesCompleted);
        Assert.Equal(0, server.Server.ConnectionCount);
    }

    private static int FieldBit(byte[] datagram, int field)
    {
        PacketReader.TryRead(datagram, out var header, out _);
        var range = field switch
        {
            -1 => header.Key,
            -2 => header.Signature,
            -3 => header.Certificate,
            _ => new Range(header.Signature.End, header.Signature.End.Value + 1),
        };
        var (offset, length) = range.GetOffsetAndLength(datagram.Length);
        return (offset + length / 2) * 8 + 5;
    }

    public static TheoryData<string> InvalidKeys() => ["off the curve", "x = 2^256 - 1", "zero point", "truncated", "P-384 key", "garbage"];

    private static byte[] InvalidKey(string kind)
    {
        using var valid = EphemeralKey.Generate();
        var key = valid.PublicKey; // 26 bytes of SPKI prefix, 0x04, X (32), Y (32)
        switch (kind)
        {
            case "off the curve":
                key[^1] ^= 1;
                return key;
            case "x = 2^256 - 1":
                key.AsSpan(27, 32).Fill(0xFF);
                return key;
            case "zero point":
                key.AsSpan(27).Clear();
                return key;
            case "truncated":
                return key[..^5];
            case "P-384 key":
                using (var p384 = System.Security.Cryptography.ECDiffieHellman.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP384))
                    return p384.ExportSubjectPublicKeyInfo();
            default:
                return [0x30, 0x03, 0x02, 0x01, 0x00];
        }
    }

    [Theory]
    [MemberData(nameof(InvalidKeys))]
    public async Task Invalid_client_EC_point_is_refused_without_an_exception(string kind)
    {
        var logger = new RecordingLogger<PaperclipServer>();
        var validator = new KnownKeysCertificateValidator();
        await using var server = new PaperclipServer(TestPki.Shared.ServerOptions(validator), logger);
        server.Start();
        var account = TestPki.Account(8, validator);
        using var attacker = new Attackers(1);
        attacker.Send(0, RawClient.BuildAuth(account, InvalidKey(kind), 0), server.LocalEndPoint);
        await Wait.UntilAsync(() => server.Statistics.HandshakesFailed == 1, "the handshake failed");
        await Wait.UntilAsync(() => attacker.TotalAnswers == 1, "the refusal arrived");
        Assert.True(attacker.Inbox.TryDequeue(out var answer));
        Assert.True(PacketReader.TryRead(answer.Datagram, out var header, out _));
        Assert.Equal(ErrorMajor.Connection, header.Error.Major);
        Assert.Equal(0, server.ConnectionCount);
        Assert.Empty(logger.Problems);
    }

    [Theory]
    [MemberData(nameof(InvalidKeys))]
    public async Task Invalid_server_EC_point_is_refused_by_the_client_without_an_exception(string kind)
    {
        // A man in the middle holding the server's own signing key swaps the server's AUTH for one with a bad point.
        await using var server = ServerHarness.Start();
        var logger = new RecordingLogger<PaperclipClient>();
        byte[]? clientAuth = null;
        await using var mitm = new TamperingRelay(server.EndPoint, (datagram, toServer) =>
        {
            if (toServer && datagram[0] == 0x40)
                clientAuth = datagram;
            if (toServer || datagram[0] != 0x41 || clientAuth is null)
                return datagram;
            var key = InvalidKey(kind);
            var signature = AuthSignature.SignServer(TestPki.Shared.ServerKey, clientAuth, key);
            var forged = new byte[PacketWriter.AuthHeaderLength(TestPki.Shared.ServerCertificate.Length, key.Length, signature.Length)];
            PacketWriter.WriteAuthHeader(forged, PacketFlags.Reliable, 0, ProtocolConstants.Version2, TestPki.Shared.ServerCertificate, key, signature);
            return forged;
        });
        var account = TestPki.Account(9, server.Validator);
        await using var client = new PaperclipClient(TestPki.Shared.ClientOptions(account, o => o.KeyAgreement = KeyAgreement.P256), logger);
        await Assert.ThrowsAsync<ConnectionException>(() => client.ConnectAsync(mitm.EndPoint, Token).WaitAsync(Wait.Timeout, Token));
        Assert.Empty(logger.Problems);
        Assert.Equal(0, server.Server.Statistics.HandshakesCompleted);
    }
}
