using System.Net;
using System.Net.Sockets;
using Paperclip.Protocol;
using Paperclip.Protocol.Certificates;

namespace Paperclip.Transport.Tests;

public sealed class HandshakeTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Client_connects_and_the_server_reports_who_joined()
    {
        await using var server = ServerHarness.Start();
        await using var client = await server.ConnectAsync(42);

        var joined = server.Joined.Next();
        Assert.Equal(42, joined.AccountId);
        Assert.Equal("player42", joined.Username);
        Assert.True(client.Client.IsConnected);
        Assert.Equal(1, server.Server.ConnectionCount);
        Assert.Equal(1, server.Server.Statistics.HandshakesCompleted);

        client.Client.Send("hello"u8);
        var received = server.Received.Next();
        Assert.Equal("hello"u8.ToArray(), received.Data);
        Assert.True(received.Flags.HasFlag(PacketFlags.Encrypted));

        joined.Send("welcome"u8);
        Assert.Equal("welcome"u8.ToArray(), client.Received.Next().Data);
    }

    [Fact]
    public async Task Client_connects_over_IPv6()
    {
        await using var server = ServerHarness.Start(options => options.ListenEndPoint = new IPEndPoint(IPAddress.IPv6Loopback, 0));
        var account = TestPki.Account(7, server.Validator);
        await using var client = new ClientHarness(new PaperclipClient(TestPki.Shared.ClientOptions(account)));
        await client.Client.ConnectAsync(server.EndPoint, Token).WaitAsync(Wait.Timeout, Token);
        client.Client.Send("v6"u8);
        Assert.Equal("v6"u8.ToArray(), server.Received.Next().Data);
    }

    [Fact]
    public async Task Certificate_of_an_unknown_key_is_refused()
    {
        await using var server = ServerHarness.Start();
        var stranger = TestPki.Account(5, validator: null);
        await using var client = new PaperclipClient(TestPki.Shared.ClientOptions(stranger));
        await Assert.ThrowsAsync<CertificateInvalidException>(() => client.ConnectAsync(server.EndPoint, Token).WaitAsync(Wait.Timeout, Token));
        Assert.Equal(0, server.Server.ConnectionCount);
    }

    [Fact]
    public async Task Forged_certificate_claiming_a_registered_account_is_refused()
    {
        await using var server = ServerHarness.Start();
        TestPki.Account(9, server.Validator, "victim");
        var forger = AccountKey.Generate();
        var forged = AccountCertificate.Create(forger, 9, "victim", DateTimeOffset.UtcNow.AddMinutes(-1), TimeSpan.FromHours(1));
        var options = TestPki.Shared.ClientOptions(new TestAccount(9, "victim", forger, forged));
        await using var client = new PaperclipClient(options);
        await Assert.ThrowsAsync<CertificateInvalidException>(() => client.ConnectAsync(server.EndPoint, Token).WaitAsync(Wait.Timeout, Token));
    }

    [Fact]
    public async Task Victims_certificate_signed_with_another_key_is_refused()
    {
        await using var server = ServerHarness.Start();
        var victim = TestPki.Account(10, server.Validator);
        var options = TestPki.Shared.ClientOptions(victim with { Key = AccountKey.Generate() });
        await using var client = new PaperclipClient(options);
        await Assert.ThrowsAsync<CertificateInvalidException>(() => client.ConnectAsync(server.EndPoint, Token).WaitAsync(Wait.Timeout, Token));
        // A refusal could be a corrupted AUTH's: the client tries five times before it believes it.
        Assert.Equal(5, server.Server.Statistics.HandshakesFailed);
    }

    [Fact]
    public async Task Server_not_signed_by_the_configured_server_key_is_refused()
    {
        await using var server = ServerHarness.Start();
        var account = TestPki.Account(11, server.Validator);
        var otherServerKey = AccountKey.ExportPublicKey(AccountKey.Generate());
        await using var client = new PaperclipClient(TestPki.Shared.ClientOptions(account, o => o.ServerPublicKey = otherServerKey));
        await Assert.ThrowsAsync<CertificateInvalidException>(() => client.ConnectAsync(server.EndPoint, Token).WaitAsync(Wait.Timeout, Token));
        Assert.Equal(0, server.Server.ConnectionCount);
    }

    [Fact]
    public async Task Tampered_server_Finished_aborts_the_client()
    {
        await using var server = ServerHarness.Start();
        await using var relay = new TamperingRelay(server.EndPoint, (datagram, toServer) =>
        {
            if (!toServer && datagram[0] == 0x20 && datagram.Length == 39)
                datagram[^1] ^= 1;
            return datagram;
        });
        var account = TestPki.Account(12, server.Validator);
        await using var client = new PaperclipClient(TestPki.Shared.ClientOptions(account));
        await Assert.ThrowsAsync<FinishInvalidException>(() => client.ConnectAsync(relay.EndPoint, Token).WaitAsync(Wait.Timeout, Token));
    }

    [Fact]
    public async Task Tampered_client_Finished_is_refused_by_the_server()
    {
        await using var server = ServerHarness.Start();
        var tampered = 0;
        await using var relay = new TamperingRelay(server.EndPoint, (datagram, toServer) =>
        {
            if (toServer && datagram[0] == 0x21)
            {
                datagram[^1] ^= 1;
                Interlocked.Increment(ref tampered);
            }
            return datagram;
        });
        var account = TestPki.Account(13, server.Validator);
        await using var client = new ClientHarness(new PaperclipClient(TestPki.Shared.ClientOptions(account)));
        await client.Client.ConnectAsync(relay.EndPoint, Token).WaitAsync(Wait.Timeout, Token);

        await Wait.UntilAsync(() => server.Server.Statistics.HandshakesFailed == 1, "the server refused the Finished");
        Assert.True(tampered >= 1);
        Assert.Equal(0, server.Server.ConnectionCount);
        Assert.Empty(server.Joined);

        // The client, which thought itself connected, hears the refusal at once (not at the 30 s reliable timeout).
        var disconnected = client.Disconnected.Next();
        Assert.Contains("FINISH_INVALID", disconnected.Text, StringComparison.Ordinal);
        Assert.False(client.Client.IsConnected);
    }

    [Fact]
    public async Task Unsupported_version_is_answered_with_VERSION_UNSUPPORTED()
    {
        await using var server = ServerHarness.Start();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var auth = new byte[1200];
        auth[0] = 0x40;
        auth[3] = 3; // VERSION 3, which nobody speaks yet
        await socket.SendToAsync(auth, server.EndPoint, Token);

        var answer = new byte[100];
        var received = await socket.ReceiveFromAsync(answer, new IPEndPoint(IPAddress.Any, 0), Token).AsTask().WaitAsync(Wait.Timeout, Token);
        Assert.True(PacketReader.TryRead(answer.AsSpan(0, received.ReceivedBytes), out var header, out _));
        Assert.Equal(PacketType.Error, header.Type);
        Assert.Equal(ErrorCode.Of(ConnectionError.VersionUnsupported), header.Error);
        Assert.Equal(new byte[] { 1, 2 }, answer.AsSpan(header.Length, received.ReceivedBytes - header.Length).ToArray()); // the versions it accepts
    }

    [Fact]
    public async Task Full_server_answers_NO_SPACE()
    {
        await using var server = ServerHarness.Start(options => options.MaxClients = 1);
        await using var first = await server.ConnectAsync(20);
        var account = TestPki.Account(21, server.Validator);
        await using var second = new PaperclipClient(TestPki.Shared.ClientOptions(account));
        await Assert.ThrowsAsync<NoSpaceException>(() => second.ConnectAsync(server.EndPoint, Token).WaitAsync(Wait.Timeout, Token));
        Assert.Equal(1, server.Server.ConnectionCount);
    }

    [Fact]
    public async Task Admission_refusal_answers_NO_SPACE()
    {
        await using var server = ServerHarness.Start(options => options.Admission = identity => identity.AccountId != 23);
        await using var admitted = await server.ConnectAsync(22);
        var account = TestPki.Account(23, server.Validator);
        await using var refused = new PaperclipClient(TestPki.Shared.ClientOptions(account));
        await Assert.ThrowsAsync<NoSpaceException>(() => refused.ConnectAsync(server.EndPoint, Token).WaitAsync(Wait.Timeout, Token));
        Assert.Equal(1, server.Server.Statistics.KeyAgreements);
    }

    [Fact]
    public async Task Silent_server_times_out_the_handshake()
    {
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var account = TestPki.Account(30, validator: null);
        await using var client = new PaperclipClient(TestPki.Shared.ClientOptions(account, o => o.HandshakeTimeout = TimeSpan.FromSeconds(1)));
        await Assert.ThrowsAsync<TimeoutDisconnectException>(() => client.ConnectAsync(silent.LocalEndPoint!, Token).WaitAsync(Wait.Timeout, Token));

        // It retransmitted the identical AUTH while waiting (250 ms, then 500 ms).
        var buffer = new byte[2000];
        var first = await silent.ReceiveAsync(buffer, Token);
        var copy = buffer.AsSpan(0, first).ToArray();
        Assert.Equal(1200, first);
        var second = await silent.ReceiveAsync(buffer, Token);
        Assert.Equal(copy, buffer.AsSpan(0, second).ToArray());
    }

    [Fact]
    public async Task Cookies_when_demanded_are_followed_by_the_client()
    {
        await using var server = ServerHarness.Start(options => options.CookieMode = CookieMode.Always);
        await using var client = await server.ConnectAsync(40);
        Assert.Equal(1, server.Server.Statistics.RetriesSent);
        Assert.Equal(1, server.Server.Statistics.CertificateChecks);
        client.Client.Send("after retry"u8);
        Assert.Equal("after retry"u8.ToArray(), server.Received.Next().Data);
    }

    [Fact]
    public async Task Lost_handshake_datagrams_are_recovered()
    {
        await using var server = ServerHarness.Start();
        var dropped = new HashSet<byte>();
        await using var relay = new TamperingRelay(server.EndPoint, (datagram, toServer) =>
        {
            // Drop the first copy of every handshake datagram, once each.
            lock (dropped)
                return datagram[0] is 0x40 or 0x41 or 0x20 or 0x21 && dropped.Add(datagram[0]) ? null : datagram;
        });
        var account = TestPki.Account(50, server.Validator);
        await using var client = new ClientHarness(new PaperclipClient(TestPki.Shared.ClientOptions(account)));
        await client.Client.ConnectAsync(relay.EndPoint, Token).WaitAsync(Wait.Timeout, Token);
        Assert.Equal(50, server.Joined.Next().AccountId);
        client.Client.Send("through"u8);
        Assert.Equal("through"u8.ToArray(), server.Received.Next().Data);
    }

    [Fact]
    public async Task New_handshake_from_the_same_address_replaces_the_session_only_when_it_completes()
    {
        await using var server = ServerHarness.Start();
        await using var client = await server.ConnectAsync(60);
        var first = server.Joined.Next();

        // A raw AUTH from another socket does not disturb the connected client.
        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        await raw.SendToAsync(new byte[1200], server.EndPoint, Token);
        client.Client.Send("still here"u8);
        Assert.Equal("still here"u8.ToArray(), server.Received.Next().Data);
        Assert.True(first.IsConnected);
    }
}
