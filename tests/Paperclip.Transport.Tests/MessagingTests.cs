using System.Buffers.Binary;
using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using Paperclip.Protocol;

namespace Paperclip.Transport.Tests;

public sealed class MessagingTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static TheoryData<Delivery, SendOptions> SendCombinations()
    {
        var data = new TheoryData<Delivery, SendOptions>();
        foreach (var delivery in new[] { Delivery.Unreliable, Delivery.Reliable })
        {
            foreach (var options in Enumerable.Range(0, 8))
                data.Add(delivery, (SendOptions)options);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(SendCombinations))]
    public async Task Every_delivery_and_option_combination_delivers_the_message_intact(Delivery delivery, SendOptions options)
    {
        // The optional policy lets plaintext be chosen per message, so plaintext combinations are exercised too.
        await using var server = ServerHarness.Start(o => o.EncryptionPolicy = EncryptionPolicy.Optional);
        await using var client = await server.ConnectAsync(1, o => o.EncryptionPolicy = EncryptionPolicy.Optional);
        var message = RandomNumberGenerator.GetBytes(3000); // more than a datagram: it travels as FRAG fragments
        message.AsSpan(0, 1000).Clear(); // something for DEFLATE to shrink

        client.Client.Send(message, delivery, options);
        var (_, data, receivedFlags, _) = server.Received.Next();
        Assert.Equal(message, data);
        var expected = (delivery == Delivery.Reliable ? PacketFlags.Reliable : 0)
            | ((options & SendOptions.Checksum) != 0 ? PacketFlags.Checksum : 0)
            | ((options & SendOptions.Compress) != 0 ? PacketFlags.Compressed : 0)
            | ((options & SendOptions.Plaintext) != 0 ? 0 : PacketFlags.Encrypted);
        Assert.Equal(expected, receivedFlags & ~PacketFlags.Frag);

        server.Joined.Next().Send(message, delivery, options);
        Assert.Equal(message, client.Received.Next().Data);
    }

    [Fact]
    public async Task Plaintext_is_refused_under_the_required_policy()
    {
        await using var server = ServerHarness.Start();
        await using var client = await server.ConnectAsync(1);
        Assert.Throws<ArgumentException>(() => client.Client.Send("x"u8, Delivery.Reliable, SendOptions.Plaintext));
    }

    [Fact]
    public async Task Corrupted_checksummed_message_is_refused_reported_and_resent()
    {
        await using var server = ServerHarness.Start(o => o.EncryptionPolicy = EncryptionPolicy.Optional);
        var corrupted = 0;
        await using var relay = new TamperingRelay(server.EndPoint, (datagram, toServer) =>
        {
            // Flip the last byte of the first plaintext DEFAULT|RELIABLE|CHECKSUM the client sends.
            if (toServer && datagram[0] == 0x03 && Interlocked.CompareExchange(ref corrupted, 1, 0) == 0)
                datagram[^1] ^= 0xFF;
            return datagram;
        });
        var account = TestPki.Account(14, server.Validator);
        await using var client = new ClientHarness(new PaperclipClient(TestPki.Shared.ClientOptions(account, o => o.EncryptionPolicy = EncryptionPolicy.Optional)));
        await client.Client.ConnectAsync(relay.EndPoint, Token).WaitAsync(Wait.Timeout, Token);

        client.Client.Send("checked"u8, Delivery.Reliable, SendOptions.Checksum | SendOptions.Plaintext);
        Assert.Equal("checked"u8.ToArray(), server.Received.Next().Data);
        Assert.Equal(1, corrupted);
        var error = client.Errors.Next();
        Assert.Equal(ErrorCode.Of(PacketError.Checksum), error.Code);
        Assert.IsType<ChecksumException>(error.ToException());
        Assert.Equal(1, server.Joined.Next().Statistics.Dropped(DropReason.Checksum));
        Assert.True(client.Client.Statistics.Retransmissions >= 1);
    }

    [Fact]
    public async Task Server_error_with_text_reaches_the_client_and_the_session_goes_on()
    {
        await using var server = ServerHarness.Start();
        await using var client = await server.ConnectAsync(15);
        var connection = server.Joined.Next();
        connection.SendError(ErrorCode.Of(PacketError.Data), "bad move: " + new string('é', 300));

        var error = client.Errors.Next();
        Assert.Equal(ErrorCode.Of(PacketError.Data), error.Code);
        Assert.StartsWith("bad move: éé", error.Text, StringComparison.Ordinal);
        Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(error.Text), 250, 256);
        client.Client.Send("still connected"u8);
        Assert.Equal("still connected"u8.ToArray(), server.Received.Next().Data);
    }

    [Fact]
    public async Task Disposing_from_an_event_handler_on_the_network_threads_does_not_hang()
    {
        var server = ServerHarness.Start();
        var client = await server.ConnectAsync(18);
        var disposed = new TaskCompletionSource();
        var clientDisposed = new TaskCompletionSource();
        // The handlers run on the receive threads; disposal must not wait for the thread it runs on.
        server.Server.DataReceived += (_, _, _) => server.Server.DisposeAsync().AsTask().ContinueWith(_ => disposed.TrySetResult(), TaskScheduler.Default);
        client.Client.Disconnected += (_, _) => client.Client.DisposeAsync().AsTask().ContinueWith(_ => clientDisposed.TrySetResult(), TaskScheduler.Default);
        client.Client.Send("bye"u8);
        await disposed.Task.WaitAsync(Wait.Timeout, Token);
        await clientDisposed.Task.WaitAsync(Wait.Timeout, Token);
    }

    [Fact]
    public async Task Message_of_200_KB_is_fragmented_and_reassembled()
    {
        await using var server = ServerHarness.Start();
        await using var client = await server.ConnectAsync(2);
        var message = RandomNumberGenerator.GetBytes(200 * 1024);

        client.Client.Send(message, Delivery.Reliable, SendOptions.Checksum);
        Assert.Equal(message, server.Received.Next().Data);
        Assert.True(client.Client.Statistics.DatagramsSent >= 175);

        server.Joined.Next().Send(message);
        Assert.Equal(message, client.Received.Next().Data);
    }

    [Fact]
    public async Task Message_over_255_fragments_is_refused_to_the_caller()
    {
        await using var server = ServerHarness.Start();
        await using var client = await server.ConnectAsync(3, o => o.MaxMessageSize = 1 << 20);
        Assert.Throws<SizeException>(() => client.Client.Send(new byte[400_000], Delivery.Reliable));
        Assert.Throws<SizeException>(() => client.Client.Send(new byte[(1 << 20) + 1], Delivery.Reliable));
    }

    [Fact]
    public async Task Seventy_thousand_reliable_messages_wrap_the_sequence_without_loss_or_duplicates()
    {
        const int Count = 70_000;
        await using var server = ServerHarness.Start();
        await using var client = await server.ConnectAsync(4);
        var seen = new byte[Count];
        var received = 0;
        var duplicates = 0;
        server.Server.DataReceived += (_, data, _) =>
        {
            var index = BinaryPrimitives.ReadInt32BigEndian(data);
            if (seen[index]++ > 0)
                Interlocked.Increment(ref duplicates);
            Interlocked.Increment(ref received);
        };

        var payload = new byte[16];
        for (var i = 0; i < Count; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(payload, i);
            client.Client.Send(payload, Delivery.Reliable);
            if (i % 2000 == 1999)
                await Wait.UntilAsync(() => Volatile.Read(ref received) >= i - 4000, "the server keeps up");
        }
        await Wait.UntilAsync(() => Volatile.Read(ref received) >= Count, "every message arrived", TimeSpan.FromSeconds(60));
        Assert.Equal(0, duplicates);
        Assert.All(seen, count => Assert.Equal(1, count));
    }

    [Fact]
    public async Task Hundred_clients_connect_at_once_and_exchange_messages()
    {
        await using var server = ServerHarness.Start();
        var clients = await Task.WhenAll(Enumerable.Range(100, 100).Select(id => server.ConnectAsync(id)));
        try
        {
            await Wait.UntilAsync(() => server.Server.ConnectionCount == 100, "the server has every client");
            foreach (var client in clients)
                client.Client.Send(BitConverter.GetBytes((long)client.Client.LocalEndPoint.Port));
            for (var i = 0; i < 100; i++)
            {
                var (connection, data, _, _) = server.Received.Next();
                connection.Send(data);
            }
            foreach (var client in clients)
                Assert.Equal(client.Client.LocalEndPoint.Port, BitConverter.ToInt64(client.Received.Next().Data));
        }
        finally
        {
            foreach (var client in clients)
                await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task Client_leaving_is_reported_by_the_server()
    {
        await using var server = ServerHarness.Start();
        var client = await server.ConnectAsync(5);
        var connection = server.Joined.Next();
        await client.DisposeAsync();

        var left = server.Left.Next();
        Assert.Same(connection, left.Connection);
        Assert.Equal(DisconnectReason.ClientDisconnect, left.Reason);
        Assert.Equal(0, server.Server.ConnectionCount);
    }

    [Fact]
    public async Task Server_shutting_down_tells_every_client()
    {
        var server = ServerHarness.Start();
        var clients = await Task.WhenAll(Enumerable.Range(200, 3).Select(id => server.ConnectAsync(id)));
        for (var i = 0; i < clients.Length; i++)
            server.Joined.Next();
        await server.DisposeAsync();
        foreach (var client in clients)
        {
            Assert.Equal(DisconnectReason.ServerDisconnect, client.Disconnected.Next().Reason);
            Assert.False(client.Client.IsConnected);
            await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task Server_shutting_down_tells_a_client_whose_Finished_it_has_not_seen()
    {
        var server = ServerHarness.Start();
        // The client's Finished never reaches the server: the client is connected, the server still pending.
        await using var relay = new TamperingRelay(server.EndPoint, (datagram, toServer) => toServer && datagram[0] == 0x21 ? null : datagram);
        var account = TestPki.Account(17, server.Validator);
        await using var client = new ClientHarness(new PaperclipClient(TestPki.Shared.ClientOptions(account)));
        await client.Client.ConnectAsync(relay.EndPoint, Token).WaitAsync(Wait.Timeout, Token);
        Assert.Equal(1, server.Server.PendingHandshakeCount);

        await server.DisposeAsync();
        Assert.Equal(DisconnectReason.ServerDisconnect, client.Disconnected.Next().Reason);
    }

    [Fact]
    public async Task Heartbeat_timeout_frees_the_session_on_the_injected_clock()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = ServerHarness.Start(time: clock);
        var silent = false;
        await using var relay = new TamperingRelay(server.EndPoint, (datagram, _) => Volatile.Read(ref silent) ? null : datagram);
        var account = TestPki.Account(6, server.Validator);
        await using var client = new ClientHarness(new PaperclipClient(TestPki.Shared.ClientOptions(account)));
        await client.Client.ConnectAsync(relay.EndPoint, Token).WaitAsync(Wait.Timeout, Token);
        server.Joined.Next();

        // The network goes dark: the server's PINGs go unanswered.
        Volatile.Write(ref silent, true);
        clock.Advance(TimeSpan.FromSeconds(119));
        Assert.Equal(1, server.Server.ConnectionCount);
        clock.Advance(TimeSpan.FromSeconds(2));

        var left = server.Left.Next();
        Assert.Equal(DisconnectReason.Timeout, left.Reason);
        Assert.Equal(0, server.Server.ConnectionCount);
    }

    [Fact]
    public async Task Client_times_out_a_silent_server_on_its_injected_clock()
    {
        await using var server = ServerHarness.Start();
        var silent = false;
        await using var relay = new TamperingRelay(server.EndPoint, (datagram, _) => Volatile.Read(ref silent) ? null : datagram);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var account = TestPki.Account(16, server.Validator);
        await using var client = new ClientHarness(new PaperclipClient(TestPki.Shared.ClientOptions(account, o => o.TimeProvider = clock)));
        await client.Client.ConnectAsync(relay.EndPoint, Token).WaitAsync(Wait.Timeout, Token);
        server.Joined.Next();
        // The server's ACK of our Finished is the last thing it sends: once heard, silence starts.
        // (Heard after the clock moved, it would count as hearing from the server then.)
        await Wait.UntilAsync(() => client.Client.Statistics.DatagramsReceived > 0, "the Finished was acknowledged");

        Volatile.Write(ref silent, true);
        clock.Advance(TimeSpan.FromSeconds(121));
        Assert.Equal(DisconnectReason.Timeout, client.Disconnected.Next().Reason);
        Assert.False(client.Client.IsConnected);
    }

    [Fact]
    public async Task Ping_keeps_a_quiet_session_alive()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = ServerHarness.Start(time: clock);
        await using var client = await server.ConnectAsync(7);
        var connection = server.Joined.Next();
        var received = connection.Statistics.DatagramsReceived;

        // Past the interval the server PINGs; the client's PONG counts as hearing from it.
        clock.Advance(TimeSpan.FromSeconds(31));
        await Wait.UntilAsync(() => connection.Statistics.DatagramsReceived > received, "the PONG arrived");
        clock.Advance(TimeSpan.FromSeconds(100));
        Assert.True(connection.IsConnected);
    }

    [Fact]
    public async Task Fragments_of_a_message_already_delivered_are_acknowledged_again_one_by_one_not_reassembled()
    {
        await using var server = ServerHarness.Start();
        // Once armed, the server's datagrams (its ACK among them) are lost until the client resends.
        PaperclipClient? sender = null;
        var armed = false;
        await using var relay = new TamperingRelay(server.EndPoint, (datagram, toServer) =>
            !toServer && Volatile.Read(ref armed) && sender!.Statistics.Retransmissions == 0 ? null : datagram);
        var account = TestPki.Account(19, server.Validator);
        await using var client = new ClientHarness(new PaperclipClient(TestPki.Shared.ClientOptions(account)));
        sender = client.Client;
        await client.Client.ConnectAsync(relay.EndPoint, Token).WaitAsync(Wait.Timeout, Token);
        var connection = server.Joined.Next();
        Volatile.Write(ref armed, true);

        var message = RandomNumberGenerator.GetBytes(12_000); // 11 fragments
        client.Client.Send(message, Delivery.Reliable);
        Assert.Equal(message, server.Received.Next().Data);

        // Each fragment of the resent message is dropped as a duplicate and ACKed at once, so the
        // sender stops even if not every fragment gets through again.
        await Wait.UntilAsync(() => connection.Statistics.Dropped(DropReason.Duplicate) >= 10, $"every resent fragment was recognised ({connection.Statistics.Dropped(DropReason.Duplicate)})");
        client.Client.Send("after"u8, Delivery.Reliable);
        Assert.Equal("after"u8.ToArray(), server.Received.Next().Data);
    }

    [Fact]
    public async Task A_lost_ping_is_repeated_every_retry_interval_until_the_peer_answers()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = ServerHarness.Start(time: clock);
        // The network loses the server's first three PINGs (a lone sealed HEARTBEAT: 0x68).
        var pings = 0;
        await using var relay = new TamperingRelay(server.EndPoint, (datagram, toServer) =>
            !toServer && datagram[0] == 0x68 && Interlocked.Increment(ref pings) <= 3 ? null : datagram);
        var account = TestPki.Account(18, server.Validator);
        await using var client = new ClientHarness(new PaperclipClient(TestPki.Shared.ClientOptions(account)));
        await client.Client.ConnectAsync(relay.EndPoint, Token).WaitAsync(Wait.Timeout, Token);
        var connection = server.Joined.Next();
        // Nothing of the handshake left in flight (its last ACK can arrive after the connect
        // returns): a retransmission due when the clock jumps would share the PING's datagram.
        await Wait.UntilAsync(() => connection.Session.Sent.InFlightCount == 0, "the server's handshake messages were acknowledged");
        var received = connection.Statistics.DatagramsReceived;

        // Silent for the interval, then one more PING per second (the retry interval) until one gets through.
        var sent = 0;
        for (var second = 30; sent <= 3; second++)
        {
            Assert.True(second < 40, "the fourth PING did not leave within 10 s of the first");
            clock.Advance(TimeSpan.FromSeconds(second == 30 ? 30 : 1));
            var before = sent;
            await Wait.UntilAsync(() => Volatile.Read(ref pings) > before, $"a PING left at {second} s");
            sent = Volatile.Read(ref pings);
        }
        await Wait.UntilAsync(() => connection.Statistics.DatagramsReceived > received, "the PONG arrived");
        clock.Advance(TimeSpan.FromSeconds(100));
        Assert.True(connection.IsConnected);
    }

    [Fact]
    public async Task Polled_events_are_raised_on_the_polling_thread()
    {
        await using var server = ServerHarness.Start(o => o.EventDelivery = EventDelivery.Polled);
        await using var client = await server.ConnectAsync(8);
        client.Client.Send("queued"u8);

        var raisedOn = new List<int>();
        server.Server.DataReceived += (_, _, _) => raisedOn.Add(Environment.CurrentManagedThreadId);
        Assert.Empty(server.Joined);
        var deadline = DateTime.UtcNow + Wait.Timeout;
        var pollingThread = Environment.CurrentManagedThreadId;
        while (raisedOn.Count == 0 && DateTime.UtcNow < deadline)
        {
            server.Server.Poll();
            Thread.Yield();
        }
        Assert.Single(server.Joined);
        Assert.Equal("queued"u8.ToArray(), server.Received.Next().Data);
        Assert.Equal([pollingThread], raisedOn);
    }

    [Fact]
    public async Task Statistics_count_traffic_and_measure_the_round_trip()
    {
        await using var server = ServerHarness.Start();
        await using var client = await server.ConnectAsync(9);
        for (var i = 0; i < 20; i++)
            client.Client.Send("x"u8, Delivery.Reliable);
        for (var i = 0; i < 20; i++)
            server.Received.Next();
        await Wait.UntilAsync(() => client.Client.Statistics.RoundTripTime > TimeSpan.Zero, "an ACK was timed");
        var statistics = client.Client.Statistics;
        Assert.Equal(20, statistics.MessagesSent);
        Assert.True(statistics.DatagramsSent >= 1);
        Assert.True(statistics.BytesSent > 20);
        Assert.True(statistics.DatagramsReceived >= 1);
        Assert.True(statistics.RoundTripTime < TimeSpan.FromSeconds(1));
    }
}
