using System.Buffers.Binary;
using Paperclip.Protocol;
using Paperclip.Protocol.Crypto;
using Paperclip.Transport.Internal.Connection;

namespace Paperclip.Transport.Tests.Connection;

/// <summary>
/// The receiving side of CHANNEL streams (protocol §2.2, §3.3 steps 7–8) in a session core: sealed
/// CHANNEL datagrams with chosen SEQ and CSEQ go in, and what the core delivers, acknowledges and
/// answers comes out, on the core's own clock.
/// </summary>
public sealed class ReceiveStreamsTests : IDisposable
{
    private readonly SessionKeys _keys = CoreKit.Keys();
    private readonly PacketProtection _sender;
    private readonly PacketProtection _peerReceiver;
    private readonly RecordingSink _wire = new();
    private readonly List<TestCore> _cores = [];
    private ulong _packetNumber;

    public ReceiveStreamsTests()
    {
        _sender = _keys.CreateSender(isClient: true);
        _peerReceiver = _keys.CreateReceiver(isClient: true);
    }

    public void Dispose()
    {
        foreach (var core in _cores)
            core.Close(DisconnectReason.Disconnect, notifyPeer: false);
        _sender.Dispose();
        _peerReceiver.Dispose();
        _keys.Dispose();
    }

    private TestCore Receiver(Action<PaperclipClientOptions>? configure = null, ReassemblyBudget? heldBudget = null, long now = 0)
    {
        var core = new TestCore(CoreKit.Settings(configure: configure), _wire, now, heldBudget);
        core.Activate(_keys, isClient: false, ProtocolConstants.Version2, now);
        _cores.Add(core);
        return core;
    }

    /// <summary>A sealed CHANNEL datagram as the peer would send it; DATA carries the CSEQ, padded to <paramref name="size"/>.</summary>
    private byte[] Channel(ushort sequence, ushort channelSequence, Delivery delivery = Delivery.ReliableOrdered, int channel = 1, int size = 2)
    {
        var header = PacketHeader.Create(PacketType.Channel, (delivery == Delivery.UnreliableSequenced ? PacketFlags.None : PacketFlags.Reliable) | PacketFlags.Encrypted, sequence);
        header.Channel = (byte)channel;
        header.Sequenced = delivery != Delivery.ReliableOrdered;
        header.ChannelSequence = channelSequence;
        header.PacketNumber = _packetNumber++;
        var data = new byte[Math.Max(size, 2)];
        BinaryPrimitives.WriteUInt16BigEndian(data, channelSequence);
        var datagram = new byte[PacketWriter.HeaderLength(header.Type, header.Flags) + data.Length + ProtocolConstants.TagSize];
        var headerLength = PacketWriter.WriteHeader(datagram, header);
        data.CopyTo(datagram, headerLength);
        _sender.Seal(datagram, headerLength, data.Length, header.PacketNumber);
        return datagram;
    }

    private static void Receive(TestCore core, byte[] datagram, long now = 0)
    {
        var copy = datagram.ToArray(); // opening works in place, and a test may send the same bytes again
        core.Receive(copy, CoreKit.Header(copy), now);
    }

    /// <summary>Flushes the core and returns what it sent, opened as the peer opens it.</summary>
    private List<(PacketHeader Header, byte[] Data)> Answers(TestCore core, long now = 0)
    {
        _wire.Datagrams.Clear();
        core.Flush(now, 0);
        return [.. _wire.Datagrams.SelectMany(d => CoreKit.Packets(d, _peerReceiver))];
    }

    /// <summary>The sequence ids the answers acknowledge (ACK_ID and ACK_BITS).</summary>
    private static HashSet<ushort> Acknowledged(List<(PacketHeader Header, byte[] Data)> answers)
    {
        var acknowledged = new HashSet<ushort>();
        foreach (var (header, _) in answers.Where(a => a.Header.Type == PacketType.Ack))
        {
            acknowledged.Add(header.AckId);
            for (var i = 0; i < 16; i++)
            {
                if (((header.AckBits >> i) & 1) != 0)
                    acknowledged.Add((ushort)(header.AckId - 1 - i));
            }
        }
        return acknowledged;
    }

    private static List<int> Delivered(TestCore core) => [.. core.Messages.Select(m => (int)BinaryPrimitives.ReadUInt16BigEndian(m.Data))];

    private static ReceiveStreams Streams(TestCore core) => core.ReceivePipeline.Streams;

    [Fact]
    public void Ordered_messages_ahead_of_the_next_are_held_acknowledged_and_delivered_in_order_once_the_gap_fills()
    {
        var core = Receiver();
        Receive(core, Channel(12, 2));
        Receive(core, Channel(11, 1));
        Receive(core, Channel(13, 3));
        Assert.Empty(core.Messages);
        Assert.Equal(3, Streams(core).HeldCount);
        Assert.Equal(6, Streams(core).HeldBytes);
        Assert.Superset(new HashSet<ushort> { 11, 12, 13 }, Acknowledged(Answers(core))); // held means received (§2.2)

        Receive(core, Channel(10, 0));
        Assert.Equal([0, 1, 2, 3], Delivered(core));
        Assert.All(core.Infos, info => Assert.Equal(new MessageInfo(Delivery.ReliableOrdered, 1, PacketFlags.Reliable | PacketFlags.Encrypted), info));
        Assert.Equal(0, Streams(core).HeldCount);
        Assert.Equal(0, Streams(core).HeldBytes);
        Assert.Contains((ushort)10, Acknowledged(Answers(core)));
    }

    [Fact]
    public void Each_channel_is_its_own_ordered_stream()
    {
        var core = Receiver();
        Receive(core, Channel(20, 1, channel: 1));
        Receive(core, Channel(21, 0, channel: 2));
        Receive(core, Channel(22, 1, channel: 2));
        Assert.Equal([0, 1], Delivered(core)); // channel 2 does not wait for channel 1's gap
        Assert.All(core.Infos, info => Assert.Equal(2, info.Channel));
        Assert.Equal(1, Streams(core).HeldCount);
    }

    [Fact]
    public void A_copy_of_a_held_message_and_an_old_one_are_acknowledged_again_and_not_delivered_again()
    {
        var core = Receiver();
        Receive(core, Channel(31, 1));
        Answers(core);
        Receive(core, Channel(31, 1)); // the sender resent it: its ACK was lost (same SEQ, new PN)
        Assert.Contains((ushort)31, Acknowledged(Answers(core)));
        Assert.Equal(1, Streams(core).HeldCount);

        Receive(core, Channel(30, 0));
        Assert.Equal([0, 1], Delivered(core));
        Answers(core);
        Receive(core, Channel(30, 0)); // old now: d ≥ 32768
        Assert.Contains((ushort)30, Acknowledged(Answers(core)));
        Receive(core, Channel(31, 1));
        Assert.Contains((ushort)31, Acknowledged(Answers(core)));
        Assert.Equal([0, 1], Delivered(core));
        Assert.Equal(3, core.Statistics.Dropped(DropReason.Duplicate));
    }

    [Theory]
    [InlineData(4096)]
    [InlineData(20_000)]
    [InlineData(32_767)]
    public void A_message_4096_or_more_ahead_breaks_the_window_PACKET_CHANNEL_and_no_ACK(int distance)
    {
        var core = Receiver();
        Receive(core, Channel(40, (ushort)distance));
        var answers = Answers(core);
        Assert.DoesNotContain((ushort)40, Acknowledged(answers));
        Assert.Contains(answers, a => a.Header.Type == PacketType.Error && a.Header.Error == ErrorCode.Of(PacketError.Channel));
        Assert.Empty(core.Messages);
        Assert.Equal(0, Streams(core).HeldCount);
        Assert.Null(core.ClosedReason);

        // The stream is unchanged: its next message and one held just inside the window still work.
        Receive(core, Channel(41, 4095));
        Receive(core, Channel(42, 0));
        Assert.Equal([0], Delivered(core));
        Assert.Equal(1, Streams(core).HeldCount);
        Assert.Superset(new HashSet<ushort> { 41, 42 }, Acknowledged(Answers(core)));
    }

    [Theory]
    [InlineData(32_768)]
    [InlineData(65_535)]
    public void A_message_32768_or_more_behind_is_old_acknowledged_and_dropped(int channelSequence)
    {
        var core = Receiver();
        Receive(core, Channel(50, (ushort)channelSequence));
        Assert.Contains((ushort)50, Acknowledged(Answers(core)));
        Assert.Empty(core.Messages);
        Assert.Equal(0, Streams(core).HeldCount);
        Assert.Equal(1, core.Statistics.Dropped(DropReason.Duplicate));
    }

    [Fact]
    public void Past_the_count_bound_a_message_is_refused_unacknowledged_but_the_awaited_one_never_is()
    {
        var core = Receiver(o => o.MaxHeldMessages = 2);
        Receive(core, Channel(61, 1));
        Receive(core, Channel(62, 2));
        Receive(core, Channel(63, 3));
        var acknowledged = Acknowledged(Answers(core));
        Assert.Superset(new HashSet<ushort> { 61, 62 }, acknowledged);
        Assert.DoesNotContain((ushort)63, acknowledged); // not recorded as received: the sender resends it
        Assert.Equal(2, Streams(core).HeldCount);
        Assert.Equal(1, core.Statistics.Dropped(DropReason.Refused));

        Receive(core, Channel(60, 0)); // d = 0 at the bound: delivered
        Assert.Equal([0, 1, 2], Delivered(core));
        Receive(core, Channel(63, 3)); // the resend
        Assert.Equal([0, 1, 2, 3], Delivered(core));
        Assert.Superset(new HashSet<ushort> { 60, 63 }, Acknowledged(Answers(core)));
    }

    [Fact]
    public void Past_the_byte_bound_a_message_is_refused_unacknowledged_and_a_smaller_one_still_fits()
    {
        var core = Receiver(o => o.MaxHeldBytes = 100);
        Receive(core, Channel(71, 1, size: 60));
        Receive(core, Channel(72, 2, size: 60));
        Receive(core, Channel(73, 3, size: 30));
        var acknowledged = Acknowledged(Answers(core));
        Assert.Superset(new HashSet<ushort> { 71, 73 }, acknowledged);
        Assert.DoesNotContain((ushort)72, acknowledged);
        Assert.Equal(90, Streams(core).HeldBytes);

        Receive(core, Channel(70, 0, size: 500)); // the awaited message is never refused for its size
        Assert.Equal([0, 1], Delivered(core));
        Receive(core, Channel(72, 2, size: 60));
        Assert.Equal([0, 1, 2, 3], Delivered(core));
        Assert.Equal(0, Streams(core).HeldBytes);
    }

    [Fact]
    public void The_bound_over_all_sessions_refuses_a_message_one_session_could_still_hold()
    {
        var shared = new ReassemblyBudget(100);
        var first = Receiver(heldBudget: shared);
        var second = Receiver(heldBudget: shared);
        Receive(first, Channel(81, 1, size: 80));
        Assert.Equal(80, shared.Used);
        Answers(first);

        Receive(second, Channel(91, 1, size: 40));
        Assert.DoesNotContain((ushort)91, Acknowledged(Answers(second)));
        Assert.Equal(0, Streams(second).HeldCount);
        Assert.Equal(1, second.Statistics.Dropped(DropReason.Refused));
        Receive(second, Channel(90, 0, size: 40));
        Assert.Equal([0], Delivered(second)); // the awaited one passes whatever the budget says

        Receive(first, Channel(80, 0));
        Assert.Equal(0, shared.Used);
        Receive(second, Channel(91, 1, size: 40));
        Assert.Equal([0, 1], Delivered(second));
        Assert.Contains((ushort)91, Acknowledged(Answers(second)));
        Assert.Equal(0, shared.Used);
    }

    [Fact]
    public void A_session_that_ends_returns_its_held_bytes_to_the_shared_budget()
    {
        var shared = new ReassemblyBudget(1000);
        var core = Receiver(heldBudget: shared);
        Receive(core, Channel(101, 1, size: 300));
        Receive(core, Channel(102, 2, size: 300));
        Assert.Equal(600, shared.Used);
        core.Close(DisconnectReason.Disconnect, notifyPeer: false);
        Assert.Equal(0, shared.Used);
    }

    [Fact]
    public void A_stream_whose_next_message_does_not_arrive_within_the_reliable_timeout_ends_the_session()
    {
        var core = Receiver(o => o.ReliableTimeout = TimeSpan.FromSeconds(5), now: 1000);
        Receive(core, Channel(111, 1), now: 1000);
        Receive(core, Channel(112, 2), now: 3000);
        Assert.Equal(6000, core.ReceivePipeline.Deadline); // counted from the oldest message held
        Assert.True(core.Deadline <= 6000);

        core.OnTimer(5999);
        Assert.Null(core.ClosedReason);
        _wire.Datagrams.Clear();
        core.OnTimer(6000);
        Assert.Equal(DisconnectReason.Timeout, core.ClosedReason);
        var disconnect = _wire.Datagrams.SelectMany(d => CoreKit.Packets(d, _peerReceiver)).First();
        Assert.Equal(ErrorCode.Of(DisconnectReason.Timeout), disconnect.Header.Error);
    }

    [Fact]
    public void The_timeout_restarts_from_the_oldest_message_still_held_once_the_gap_fills()
    {
        var core = Receiver(o => o.ReliableTimeout = TimeSpan.FromSeconds(5), now: 1000);
        Receive(core, Channel(121, 1), now: 1000);
        Receive(core, Channel(123, 3), now: 4000);
        Receive(core, Channel(120, 0), now: 5000); // delivers 0 and 1; 3 still waits for 2
        Assert.Equal([0, 1], Delivered(core));
        Assert.Equal(9000, core.ReceivePipeline.Deadline);
        core.OnTimer(8999);
        Assert.Null(core.ClosedReason);
        Receive(core, Channel(122, 2), now: 8500);
        Assert.Equal([0, 1, 2, 3], Delivered(core));
        Assert.Equal(long.MaxValue, core.ReceivePipeline.Deadline);
        core.OnTimer(20_000);
        Assert.Null(core.ClosedReason);
    }

    [Theory]
    [InlineData(Delivery.ReliableSequenced)]
    [InlineData(Delivery.UnreliableSequenced)]
    public void Sequenced_delivery_crosses_the_CSEQ_wrap_and_never_goes_back(Delivery delivery)
    {
        var core = Receiver();
        ushort sequence = 200;
        foreach (var channelSequence in new ushort[] { 65_534, 65_533, 65_535, 0, 65_535, 2, 1, 32_769, 3 })
            Receive(core, Channel(sequence++, channelSequence, delivery));
        // 65533 is older than 65534, the second 65535 older than 0, 1 older than 2; 32769 is
        // newer than 2 (32767 ahead of it), and then 3 is older than it (32768 behind).
        Assert.Equal([65_534, 65_535, 0, 2, 32_769], Delivered(core));
        Assert.All(core.Infos, info => Assert.Equal(delivery, info.Delivery));
        var acknowledged = Acknowledged(Answers(core));
        if (delivery == Delivery.ReliableSequenced)
            Assert.Equal(Enumerable.Range(200, 9).Select(s => (ushort)s).ToHashSet(), acknowledged); // the dropped ones too (§2.2)
        else
            Assert.Empty(acknowledged);
    }

    [Fact]
    public void Sequenced_streams_are_apart_from_the_ordered_stream_and_from_each_other()
    {
        var core = Receiver();
        Receive(core, Channel(300, 10, Delivery.ReliableSequenced));
        Receive(core, Channel(301, 5, Delivery.UnreliableSequenced)); // its own stream: nothing delivered on it yet
        Receive(core, Channel(302, 0, Delivery.ReliableOrdered));
        Receive(core, Channel(303, 5, Delivery.ReliableSequenced, channel: 2));
        Assert.Equal([10, 5, 0, 5], Delivered(core));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Sequenced_delivery_stays_monotonic_over_a_reordered_run_across_the_wrap(int seed)
    {
        var core = Receiver();
        var random = new Random(seed);
        // 4000 messages from CSEQ 63,000 through the wrap, each arriving up to 40 places late or twice.
        var arrivals = Enumerable.Range(0, 4000).SelectMany(i => random.Next(10) == 0 ? new[] { i, i } : [i])
            .Select(i => (Position: i + random.Next(40), Index: i)).OrderBy(a => a.Position).Select(a => a.Index).ToList();
        ushort sequence = 0;
        foreach (var index in arrivals)
            Receive(core, Channel(sequence++, (ushort)(63_000 + index), Delivery.UnreliableSequenced));
        var delivered = Delivered(core);
        Assert.True(delivered.Count > 100);
        for (var i = 1; i < delivered.Count; i++)
            Assert.InRange((ushort)(delivered[i] - delivered[i - 1]), 1, 32_767);
        Assert.Equal((63_000 + 3999) % 65_536, delivered[^1]);
    }
}
