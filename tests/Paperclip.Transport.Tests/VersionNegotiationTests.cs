using Paperclip.Protocol;
using Paperclip.Protocol.Crypto;
using Paperclip.Protocol.Tests;
using Paperclip.Transport.Tests.Hardening;

namespace Paperclip.Transport.Tests;

/// <summary>
/// Version negotiation on real sockets (protocol §5.1, §6.1): version 2 with either key
/// algorithm, a version-2 client at a version-1 server with and without fallback, a version-1
/// client at a version-2 server, and a forged refusal that must not downgrade a session.
/// </summary>
public sealed class VersionNegotiationTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static List<(PacketHeader Header, byte[] Datagram)> Auths(IEnumerable<byte[]> seen) =>
        [.. seen.Select(d => (Ok: PacketReader.TryRead(d, out var h, out _), Header: h, Datagram: d)).Where(a => a.Ok && a.Header.Type == PacketType.Auth).Select(a => (a.Header, a.Datagram))];

    private static KeyAgreement KeyOf((PacketHeader Header, byte[] Datagram) auth)
    {
        Assert.True(EphemeralKey.TryIdentify(auth.Datagram.AsSpan(auth.Header.Key), out var algorithm));
        return algorithm;
    }

    private static byte FallbackOf((PacketHeader Header, byte[] Datagram) auth)
    {
        Assert.True(ClientAuthData.TryRead(auth.Datagram.AsSpan(auth.Header.Length), out _, out var fallback));
        return fallback;
    }

    [Theory]
    [InlineData(KeyAgreement.X25519)]
    [InlineData(KeyAgreement.P256)]
    public async Task Version_2_client_and_server_agree_on_version_2_with_the_clients_key_algorithm(KeyAgreement algorithm)
    {
        await using var pair = await ProxiedPair.StartAsync(client: o => o.KeyAgreement = algorithm);
        Assert.Equal(2, pair.Client.Client.ProtocolVersion);
        Assert.Equal(2, pair.Connection.ProtocolVersion);
        var clientAuth = Auths(pair.Up).First();
        var serverAuth = Auths(pair.Down).First();
        Assert.Equal(2, clientAuth.Header.Version);
        Assert.Equal(2, serverAuth.Header.Version);
        Assert.Equal(algorithm, KeyOf(clientAuth));
        Assert.Equal(algorithm, KeyOf(serverAuth)); // the server answers with the client's algorithm (§6.1)

        pair.Client.Client.Send("up"u8, Delivery.ReliableOrdered, 5);
        var up = pair.Server.Received.Next();
        Assert.Equal("up"u8.ToArray(), up.Data);
        Assert.Equal(new MessageInfo(Delivery.ReliableOrdered, 5, PacketFlags.Reliable | PacketFlags.Encrypted), up.Info);
        pair.Connection.Send("down"u8, Delivery.ReliableSequenced, 63);
        var down = pair.Client.Received.Next();
        Assert.Equal("down"u8.ToArray(), down.Data);
        Assert.Equal(new MessageInfo(Delivery.ReliableSequenced, 63, PacketFlags.Reliable | PacketFlags.Encrypted), down.Info);
    }

    [Fact]
    public async Task Version_2_client_at_a_version_1_server_fails_with_VersionUnsupported_unless_it_may_fall_back()
    {
        await using var server = ServerHarness.Start(o => o.MaxProtocolVersion = 1);
        await using var client = new PaperclipClient(TestPki.Shared.ClientOptions(TestPki.Account(1, server.Validator)));
        await Assert.ThrowsAsync<VersionUnsupportedException>(() => client.ConnectAsync(server.EndPoint, Token).WaitAsync(Wait.Timeout, Token));
        Assert.Equal(0, server.Server.Statistics.HandshakesCompleted);
        Assert.Equal(0, server.Server.ConnectionCount);
    }

    [Fact]
    public async Task Version_2_client_allowed_to_fall_back_gets_a_version_1_session_that_refuses_channels()
    {
        await using var pair = await ProxiedPair.StartAsync(server: o => o.MaxProtocolVersion = 1, client: o => o.AllowVersionFallback = true);
        Assert.Equal(1, pair.Client.Client.ProtocolVersion);
        Assert.Equal(1, pair.Connection.ProtocolVersion);
        var auths = Auths(pair.Up);
        Assert.Equal(2, auths[0].Header.Version);
        Assert.Equal(0, FallbackOf(auths[0]));
        var fallback = auths.Last();
        Assert.Equal(1, fallback.Header.Version);
        Assert.Equal(2, FallbackOf(fallback)); // the version it first asked for
        Assert.Equal(KeyAgreement.P256, KeyOf(fallback)); // version 1 knows only P-256
        Assert.NotEqual(auths[0].Datagram.AsSpan(auths[0].Header.Key).ToArray(), fallback.Datagram.AsSpan(fallback.Header.Key).ToArray());

        AssertChannelsRefused(pair.Client.Client, pair.Connection);
    }

    [Fact]
    public async Task Version_1_client_and_version_2_server_make_a_version_1_session_with_P256()
    {
        await using var pair = await ProxiedPair.StartAsync(client: o => o.ProtocolVersion = 1); // KeyAgreement stays X25519: ignored
        Assert.Equal(1, pair.Client.Client.ProtocolVersion);
        Assert.Equal(1, pair.Connection.ProtocolVersion);
        var clientAuth = Auths(pair.Up).First();
        Assert.All(Auths(pair.Up), auth => Assert.Equal(clientAuth.Datagram, auth.Datagram)); // repeats of one AUTH at most
        Assert.Equal(1, clientAuth.Header.Version);
        Assert.Equal(KeyAgreement.P256, KeyOf(clientAuth));
        Assert.Equal(1, Auths(pair.Down).First().Header.Version);

        AssertChannelsRefused(pair.Client.Client, pair.Connection);
    }

    private static void AssertChannelsRefused(PaperclipClient client, PaperclipConnection connection)
    {
        foreach (var delivery in new[] { Delivery.ReliableOrdered, Delivery.ReliableSequenced, Delivery.UnreliableSequenced })
        {
            Assert.Throws<InvalidOperationException>(() => client.Send("x"u8, delivery, 1));
            Assert.Throws<InvalidOperationException>(() => client.TrySend("x"u8, delivery, 1));
            Assert.Throws<InvalidOperationException>(() => connection.Send("x"u8, delivery, 1));
        }
        Assert.Equal(0, client.QueuedMessages);
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task Forged_VERSION_UNSUPPORTED_does_not_downgrade_the_fallback_AUTH_is_refused_and_the_attempt_fails()
    {
        await using var server = ServerHarness.Start();
        var forged = Vectors.Root.GetProperty("version2").Hex("version_unsupported_error_hex"); // "version 1 only"
        var forwarded = new List<(PacketHeader Header, byte[] Datagram)>();
        var refusals = 0;
        TamperingRelay? relay = null;
        relay = new TamperingRelay(server.EndPoint, (datagram, toServer) =>
        {
            if (!PacketReader.TryRead(datagram, out var header, out _))
                return datagram;
            if (toServer && header.Type == PacketType.Auth)
            {
                lock (forwarded)
                {
                    if (header.Version == 2)
                    {
                        relay!.SendToClient(forged); // an on-path attacker answers for the server
                        return null;
                    }
                    forwarded.Add((header, datagram));
                }
            }
            if (!toServer && header.Type == PacketType.Error && header.Error == ErrorCode.Of(ConnectionError.VersionUnsupported))
                Interlocked.Increment(ref refusals);
            return datagram;
        });
        await using var relayLifetime = relay;
        await using var client = new PaperclipClient(TestPki.Shared.ClientOptions(TestPki.Account(1, server.Validator), o =>
        {
            o.AllowVersionFallback = true;
            o.HandshakeTimeout = TimeSpan.FromSeconds(30); // the attempt must end on the refusal, not the timeout
        }));
        await Assert.ThrowsAsync<VersionUnsupportedException>(() => client.ConnectAsync(relay.EndPoint, Token).WaitAsync(Wait.Timeout, Token));

        lock (forwarded)
        {
            Assert.NotEmpty(forwarded);
            Assert.All(forwarded, auth => Assert.Equal(2, FallbackOf(auth))); // the client did fall back, and said so
        }
        Assert.True(Volatile.Read(ref refusals) > 0, "the server refused the FALLBACK AUTH");
        Assert.Equal(0, server.Server.Statistics.HandshakesCompleted);
        Assert.Equal(0, server.Server.ConnectionCount);
    }

    [Fact]
    public async Task Forged_VERSION_UNSUPPORTED_to_a_client_that_may_not_fall_back_costs_one_retry()
    {
        await using var server = ServerHarness.Start();
        var forged = Vectors.Root.GetProperty("version2").Hex("version_unsupported_error_hex");
        var dropped = 0;
        TamperingRelay? relay = null;
        relay = new TamperingRelay(server.EndPoint, (datagram, toServer) =>
        {
            if (toServer && PacketReader.TryRead(datagram, out var header, out _) && header.Type == PacketType.Auth && Interlocked.Exchange(ref dropped, 1) == 0)
            {
                relay!.SendToClient(forged);
                return null;
            }
            return datagram;
        });
        await using var relayLifetime = relay;
        await using var client = new ClientHarness(new PaperclipClient(TestPki.Shared.ClientOptions(TestPki.Account(1, server.Validator))));
        await client.Client.ConnectAsync(relay.EndPoint, Token).WaitAsync(Wait.Timeout, Token);
        Assert.Equal(2, client.Client.ProtocolVersion);
        Assert.Equal(2, server.Joined.Next().ProtocolVersion);
    }
}
