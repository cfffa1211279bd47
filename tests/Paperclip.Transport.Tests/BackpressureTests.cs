using System.Buffers;
using System.Buffers.Binary;
using Microsoft.Extensions.Time.Testing;
using Paperclip.Impair;
using Paperclip.Protocol;
using Paperclip.Transport.Internal;
using Paperclip.Transport.Internal.Connection;
using Paperclip.Transport.Tests.Connection;
using Paperclip.Transport.Tests.Hardening;

namespace Paperclip.Transport.Tests;

/// <summary>
/// The send buffer limit (issue 13, backpressure): a sender that ignores it is refused and holds
/// no more than the limit; one that awaits room completes; the queued counters return to 0 once
/// everything is acknowledged; unreliable messages that waited too long are dropped and counted.
/// </summary>
public sealed class BackpressureTests
{
    private const int Limit = 32 * 1024;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static byte[] Message(int index, int size)
    {
        var data = new byte[size];
        BinaryPrimitives.WriteInt32LittleEndian(data, index);
        return data;
    }

    [Fact]
    public async Task A_sender_that_ignores_the_limit_is_refused_holds_no_more_than_the_limit_and_loses_nothing()
    {
        await using var pair = await ProxiedPair.StartAsync(client: o => o.MaxSendBufferBytes = Limit);
        var client = pair.Client.Client;
        pair.Proxy.Blackhole(TimeSpan.FromMinutes(5)); // no ACK comes back until the test lets it

        var accepted = 0;
        while (client.TrySend(Message(accepted, 1000), Delivery.ReliableOrdered, 7))
            accepted++;
        Assert.Equal(Limit / 1000, accepted);
        for (var i = 0; i < 10_000; i++)
            Assert.False(client.TrySend(Message(accepted, 1000), Delivery.ReliableOrdered, 7));
        var full = Assert.Throws<SendBufferFullException>(() => client.Send(Message(accepted, 1000), Delivery.Reliable));
        Assert.Contains($"limit of {Limit}", full.Message);
        Assert.Equal(accepted * 1000, client.QueuedBytes);
        Assert.Equal(accepted, client.QueuedMessages);
        Assert.InRange(client.QueuedBytes, 0, Limit);

        pair.Proxy.Blackhole(TimeSpan.Zero);
        for (var i = 0; i < accepted; i++)
        {
            var received = pair.Server.Received.Next(TimeSpan.FromSeconds(30));
            Assert.Equal(i, BinaryPrimitives.ReadInt32LittleEndian(received.Data));
            Assert.Equal(Delivery.ReliableOrdered, received.Info.Delivery);
        }
        await Wait.UntilAsync(() => client.QueuedBytes == 0 && client.QueuedMessages == 0, "everything was acknowledged", TimeSpan.FromSeconds(30));
        Assert.True(client.TrySend(Message(accepted, 1000), Delivery.ReliableOrdered, 7));
    }

    [Fact]
    public async Task An_empty_buffer_takes_one_message_larger_than_the_limit()
    {
        await using var pair = await ProxiedPair.StartAsync(client: o => o.MaxSendBufferBytes = Limit);
        pair.Proxy.Blackhole(TimeSpan.FromMinutes(5));
        var large = Message(0, 3 * Limit);
        Assert.True(pair.Client.Client.TrySend(large, Delivery.Reliable));
        Assert.False(pair.Client.Client.TrySend(Message(1, 10), Delivery.Reliable));
        pair.Proxy.Blackhole(TimeSpan.Zero);
        Assert.Equal(large, pair.Server.Received.Next(TimeSpan.FromSeconds(30)).Data);
        await Wait.UntilAsync(() => pair.Client.Client.QueuedBytes == 0, "the large message was acknowledged", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Senders_that_await_room_complete_every_message_in_order_both_ways_through_loss()
    {
        const int Count = 3000;
        var lossy = new DirectionSettings { Loss = 0.1, Delay = TimeSpan.FromMilliseconds(5) };
        await using var pair = await ProxiedPair.StartAsync(server: o => o.MaxSendBufferBytes = Limit, client: o => o.MaxSendBufferBytes = Limit, impairment: lossy);
        var client = pair.Client.Client;
        var connection = pair.Connection;
        long clientPeak = 0, serverPeak = 0;

        async Task SendAll(Func<byte[], bool> trySend, Func<Task> whenWritable, Func<long> queued, Action<long> peak)
        {
            for (var i = 0; i < Count; i++)
            {
                var message = Message(i, 500);
                while (!trySend(message))
                    await whenWritable();
                peak(queued());
            }
        }
        var sending = Task.WhenAll(
            Task.Run(() => SendAll(m => client.TrySend(m, Delivery.ReliableOrdered, 2), () => client.WhenWritableAsync(Token), () => client.QueuedBytes, q => clientPeak = Math.Max(clientPeak, q)), Token),
            Task.Run(() => SendAll(m => connection.TrySend(m, Delivery.ReliableOrdered, 3), () => connection.WhenWritableAsync(Token), () => connection.QueuedBytes, q => serverPeak = Math.Max(serverPeak, q)), Token));

        for (var i = 0; i < Count; i++)
        {
            Assert.Equal(i, BinaryPrimitives.ReadInt32LittleEndian(pair.Server.Received.Next(TimeSpan.FromSeconds(60)).Data));
            Assert.Equal(i, BinaryPrimitives.ReadInt32LittleEndian(pair.Client.Received.Next(TimeSpan.FromSeconds(60)).Data));
        }
        await sending.WaitAsync(TimeSpan.FromSeconds(60), Token);
        Assert.InRange(clientPeak, 500, Limit);
        Assert.InRange(serverPeak, 500, Limit);
        await Wait.UntilAsync(() => client.QueuedBytes == 0 && client.QueuedMessages == 0 && connection.QueuedBytes == 0 && connection.QueuedMessages == 0,
            "both send buffers emptied once everything was acknowledged", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void Unreliable_messages_queued_longer_than_MaxUnreliableQueueDelay_are_dropped_and_counted()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var time = new Clock(clock);
        var settings = CoreKit.Settings(clock, o => o.MaxUnreliableQueueDelay = TimeSpan.FromMilliseconds(200));
        var wire = new RecordingSink();
        var core = new TestCore(settings, wire, time.NowMilliseconds);
        using var keys = CoreKit.Keys();
        core.Activate(keys, isClient: true, ProtocolConstants.Version2, time.NowMilliseconds);
        using var queue = new SendQueue();

        void Enqueue(string text, Delivery delivery, int channel = 0)
        {
            byte[]? rented = null;
            queue.Enqueue(OutgoingMessage.Prepare(System.Text.Encoding.UTF8.GetBytes(text), delivery, channel, SendOptions.None, settings, ref rented), time.NowMilliseconds);
            if (rented is not null)
                ArrayPool<byte>.Shared.Return(rented);
        }
        Enqueue("stale", Delivery.Unreliable);
        Enqueue("stale sequenced", Delivery.UnreliableSequenced, 4);
        Enqueue("reliable", Delivery.Reliable);
        Enqueue("ordered", Delivery.ReliableOrdered, 4);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Enqueue("fresh", Delivery.Unreliable); // 199 ms old at the drain
        clock.Advance(TimeSpan.FromMilliseconds(199));

        queue.DrainInto(core, time.NowMilliseconds, settings.MaxUnreliableQueueDelayMs);
        core.Flush(time.NowMilliseconds, clock.GetTimestamp());
        Assert.Equal(2, core.Statistics.UnreliableDropped);
        using var peer = keys.CreateReceiver(isClient: false);
        var sent = wire.Datagrams.SelectMany(d => CoreKit.Packets(d, peer)).Select(p => System.Text.Encoding.UTF8.GetString(p.Data)).ToList();
        Assert.Equal(["reliable", "ordered", "fresh"], sent); // reliable messages are never dropped for their age
        core.Close(DisconnectReason.Disconnect, notifyPeer: false);
    }
}
