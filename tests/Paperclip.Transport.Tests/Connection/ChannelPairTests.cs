using System.Buffers.Binary;
using Microsoft.Extensions.Time.Testing;
using Paperclip.Protocol;

namespace Paperclip.Transport.Tests.Connection;

/// <summary>
/// Two version-2 session cores over the in-memory link that loses 20 %, duplicates and reorders,
/// on a fake clock (as <see cref="SessionPairTests"/>): three reliable ordered channels, a
/// reliable sequenced one and an unreliable sequenced one both ways. Every ordered message
/// arrives exactly once and in order on its channel, sequenced streams never go backwards, and
/// the newest reliable sequenced message always arrives.
/// </summary>
public sealed class ChannelPairTests
{
    private const int StepMs = 2;
    private const byte ReliableSequencedChannel = 9;
    private const byte UnreliableSequencedChannel = 10;
    private static readonly byte[] OrderedChannels = [0, 1, 63];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Ordered_channels_deliver_exactly_once_in_order_and_sequenced_ones_never_go_back_over_a_lossy_link(int seed)
    {
        const int OrderedPerChannel = 1000;
        const int SequencedPerStream = 400;
        var random = new Random(seed);
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        long now = 1_000;
        clock.Advance(TimeSpan.FromMilliseconds(now));
        var step = 0;
        var toServer = new LossyLink(random, loss: 0.20, duplicates: 0.10, maxHoldSteps: 12, fixedHoldSteps: 0, () => step);
        var toClient = new LossyLink(random, loss: 0.20, duplicates: 0.10, maxHoldSteps: 12, fixedHoldSteps: 0, () => step);
        var settings = CoreKit.Settings(clock);
        var atServer = new Receiver();
        var atClient = new Receiver();
        var client = new TestCore(settings, toServer, now) { OnDelivered = atClient.Delivered };
        var server = new TestCore(settings, toClient, now) { OnDelivered = atServer.Delivered };
        using (var keys = CoreKit.Keys((byte)seed))
        {
            client.Activate(keys, isClient: true, ProtocolConstants.Version2, now);
            server.Activate(keys, isClient: false, ProtocolConstants.Version2, now);
        }
        // SEQ near its wrap, so that the run crosses 65535 → 0 too.
        client.ContinueSequenceAt(65_000);
        server.ContinueSequenceAt(64_500);

        int ordered = 0, sequenced = 0;
        for (; step < 200_000; step++)
        {
            now += StepMs;
            clock.Advance(TimeSpan.FromMilliseconds(StepMs));
            foreach (var (core, fromClient) in new[] { (client, true), (server, false) })
            {
                if (ordered < OrderedPerChannel)
                {
                    foreach (var channel in OrderedChannels)
                        core.SendMessage(Payload(random, channel, ordered, fromClient, fragmentsAllowed: true), Delivery.ReliableOrdered, (SendOptions)random.Next(4), channel);
                }
                if (sequenced < SequencedPerStream && step % 3 == 0)
                {
                    core.SendMessage(Payload(random, ReliableSequencedChannel, sequenced, fromClient, fragmentsAllowed: true), Delivery.ReliableSequenced, channel: ReliableSequencedChannel);
                    core.SendMessage(Payload(random, UnreliableSequencedChannel, sequenced, fromClient, fragmentsAllowed: false), Delivery.UnreliableSequenced, channel: UnreliableSequencedChannel);
                }
            }
            if (ordered < OrderedPerChannel)
                ordered++;
            if (sequenced < SequencedPerStream && step % 3 == 0)
                sequenced++;
            toServer.DeliverDue(server, now);
            toClient.DeliverDue(client, now);
            foreach (var core in new[] { client, server })
            {
                Assert.Null(core.ClosedReason);
                if (now >= core.Deadline)
                    core.OnTimer(now);
                if (core.HasOutput)
                    core.Flush(now, clock.GetTimestamp());
            }
            if (ordered == OrderedPerChannel && sequenced == SequencedPerStream && Settled(client, server, toServer, toClient))
                break;
        }
        Assert.True(Settled(client, server, toServer, toClient), $"seed {seed}: not settled after {step} steps");

        foreach (var (receiver, sender) in new[] { (atServer, client), (atClient, server) })
        {
            foreach (var channel in OrderedChannels)
                Assert.Equal(OrderedPerChannel, receiver.Next[channel]);
            Assert.Equal(SequencedPerStream - 1, receiver.Last[ReliableSequencedChannel]); // the newest always arrives
            Assert.True(receiver.Count[ReliableSequencedChannel] < SequencedPerStream, "some older reliable sequenced messages were dropped behind newer ones");
            Assert.InRange(receiver.Count[UnreliableSequencedChannel], SequencedPerStream / 2, SequencedPerStream - 1);
            Assert.True(sender.Statistics.Retransmissions > 0);
            Assert.Equal(0, sender.Sent.InFlightCount + sender.Sent.BacklogCount);
        }
        Assert.Equal(0, client.ReceivePipeline.Streams.HeldCount + server.ReceivePipeline.Streams.HeldCount);
        Assert.True(server.Statistics.Dropped(DropReason.Duplicate) > 0, "duplicates and resends were seen and dropped");
    }

    private static bool Settled(TestCore client, TestCore server, LossyLink toServer, LossyLink toClient) =>
        client.Sent.InFlightCount == 0 && server.Sent.InFlightCount == 0
        && client.Sent.BacklogCount == 0 && server.Sent.BacklogCount == 0
        && !client.HasOutput && !server.HasOutput && toServer.IsEmpty && toClient.IsEmpty;

    // channel u8, index i32, from-client u8, then filler up to 5000 bytes (fragmented past ~1150).
    private static byte[] Payload(Random random, byte channel, int index, bool fromClient, bool fragmentsAllowed)
    {
        var size = random.NextDouble() < 0.9 || !fragmentsAllowed ? random.Next(6, 300) : random.Next(1200, 5000);
        var data = new byte[size];
        data[0] = channel;
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(1), index);
        data[5] = fromClient ? (byte)1 : (byte)0;
        data.AsSpan(6).Fill((byte)(index ^ channel));
        return data;
    }

    /// <summary>What one side received, checked as it arrives.</summary>
    private sealed class Receiver
    {
        public int[] Next { get; } = new int[64];

        public int[] Last { get; } = Enumerable.Repeat(-1, 64).ToArray();

        public int[] Count { get; } = new int[64];

        public void Delivered(byte[] data, MessageInfo info)
        {
            var channel = data[0];
            var index = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(1));
            Assert.Equal(channel, info.Channel);
            Assert.True(data.AsSpan(6).IndexOfAnyExcept((byte)(index ^ channel)) < 0, "the message arrived intact");
            Count[channel]++;
            if (info.Delivery == Delivery.ReliableOrdered)
            {
                Assert.Equal(Next[channel], index); // exactly once, in order
                Next[channel]++;
                return;
            }
            Assert.Equal(channel == ReliableSequencedChannel ? Delivery.ReliableSequenced : Delivery.UnreliableSequenced, info.Delivery);
            Assert.True(index > Last[channel], $"sequenced channel {channel} went back from {Last[channel]} to {index}");
            Last[channel] = index;
        }
    }
}
