using System.Reflection;
using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using Paperclip.Protocol;
using Paperclip.Transport.Internal.Io;

namespace Paperclip.Transport.Tests.Io;

/// <summary>The real client and server on the portable engine (.NET's socket engine), which platforms without epoll use.</summary>
public sealed class PortableEngineTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ServerHarness StartServer(TimeProvider? time = null) =>
        ServerHarness.Start(o => o.SocketEngine = SocketEngine.Portable, time);

    private static Task<ClientHarness> Connect(ServerHarness server, long account, Action<PaperclipClientOptions>? configure = null) =>
        server.ConnectAsync(account, o =>
        {
            o.SocketEngine = SocketEngine.Portable;
            configure?.Invoke(o);
        });

    /// <summary>The endpoint a client or server runs on (a private field: the public API does not show it).</summary>
    private static UdpEndpoint EndpointOf(object owner)
    {
        var field = owner.GetType().GetField("_endpoint", BindingFlags.Instance | BindingFlags.NonPublic);
        Assert.NotNull(field);
        return Assert.IsType<UdpEndpoint>(field.GetValue(owner));
    }

    [Fact]
    public async Task Handshake_completes_with_both_sides_on_the_portable_engine()
    {
        await using var server = StartServer();
        await using var client = await Connect(server, 1);
        var connection = server.Joined.Next();

        Assert.True(client.Client.IsConnected);
        Assert.True(connection.IsConnected);
        Assert.Equal(SocketEngine.Portable, IoEngine.For(SocketEngine.Portable).Kind);
        foreach (var endpoint in new[] { EndpointOf(server.Server), EndpointOf(client.Client) })
        {
            Assert.IsType<PortableLoop>(endpoint.Loop);
            Assert.Equal(-1, endpoint.FileDescriptor); // epoll would watch the socket's descriptor
        }
    }

    [Fact]
    public async Task Reliable_and_unreliable_messages_travel_both_ways()
    {
        await using var server = StartServer();
        await using var client = await Connect(server, 2);
        var connection = server.Joined.Next();

        client.Client.Send("up reliable"u8, Delivery.Reliable);
        client.Client.Send("up unreliable"u8, Delivery.Unreliable);
        connection.Send("down reliable"u8, Delivery.Reliable, SendOptions.Checksum);
        connection.Send("down unreliable"u8, Delivery.Unreliable);

        // Loopback does not lose datagrams; order across deliveries is not promised.
        var up = new[] { server.Received.Next().Data, server.Received.Next().Data }.Select(d => System.Text.Encoding.UTF8.GetString(d)).Order();
        var down = new[] { client.Received.Next().Data, client.Received.Next().Data }.Select(d => System.Text.Encoding.UTF8.GetString(d)).Order();
        Assert.Equal(["up reliable", "up unreliable"], up);
        Assert.Equal(["down reliable", "down unreliable"], down);
    }

    [Fact]
    public async Task Message_of_200_KB_arrives_intact_both_ways()
    {
        await using var server = StartServer();
        await using var client = await Connect(server, 3);
        var connection = server.Joined.Next();
        var message = RandomNumberGenerator.GetBytes(200 * 1024);

        client.Client.Send(message, Delivery.Reliable, SendOptions.Checksum);
        Assert.Equal(message, server.Received.Next().Data);
        connection.Send(message, Delivery.Reliable);
        Assert.Equal(message, client.Received.Next().Data);
    }

    [Fact]
    public async Task Client_disconnecting_is_seen_by_the_server()
    {
        await using var server = StartServer();
        var client = await Connect(server, 4);
        var connection = server.Joined.Next();
        await client.DisposeAsync();

        var left = server.Left.Next();
        Assert.Same(connection, left.Connection);
        Assert.Equal(DisconnectReason.ClientDisconnect, left.Reason);
        Assert.Equal(0, server.Server.ConnectionCount);
    }

    [Fact]
    public async Task Server_disconnecting_a_client_is_seen_by_the_client()
    {
        await using var server = StartServer();
        await using var client = await Connect(server, 5);
        server.Joined.Next().Disconnect();

        Assert.Equal(DisconnectReason.ServerDisconnect, client.Disconnected.Next().Reason);
        Assert.False(client.Client.IsConnected);
        Assert.Equal(DisconnectReason.ServerDisconnect, server.Left.Next().Reason);
    }

    [Fact]
    public async Task Heartbeat_timeout_frees_the_session_on_the_injected_clock()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = StartServer(clock);
        var silent = false;
        await using var relay = new TamperingRelay(server.EndPoint, (datagram, _) => Volatile.Read(ref silent) ? null : datagram);
        var account = TestPki.Account(6, server.Validator);
        await using var client = new ClientHarness(new PaperclipClient(TestPki.Shared.ClientOptions(account, o => o.SocketEngine = SocketEngine.Portable)));
        await client.Client.ConnectAsync(relay.EndPoint, Token).WaitAsync(Wait.Timeout, Token);
        server.Joined.Next();

        Volatile.Write(ref silent, true);
        clock.Advance(TimeSpan.FromSeconds(119));
        Assert.Equal(1, server.Server.ConnectionCount);
        clock.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(DisconnectReason.Timeout, server.Left.Next().Reason);
        Assert.Equal(0, server.Server.ConnectionCount);
    }

    [Fact]
    public async Task Server_serves_fifty_clients_at_once()
    {
        await using var server = StartServer();
        var clients = await Task.WhenAll(Enumerable.Range(100, 50).Select(id => Connect(server, id)));
        try
        {
            for (var i = 0; i < clients.Length; i++)
                server.Joined.Next();
            Assert.Equal(50, server.Server.ConnectionCount);

            for (var i = 0; i < clients.Length; i++)
                clients[i].Client.Send(BitConverter.GetBytes(i), Delivery.Reliable);
            var received = Enumerable.Range(0, clients.Length).Select(_ => BitConverter.ToInt32(server.Received.Next().Data)).Order();
            Assert.Equal(Enumerable.Range(0, clients.Length), received);

            server.Server.Broadcast("to all"u8, Delivery.Reliable);
            foreach (var client in clients)
                Assert.Equal("to all"u8.ToArray(), client.Received.Next().Data);
        }
        finally
        {
            foreach (var client in clients)
                await client.DisposeAsync();
        }
    }
}
