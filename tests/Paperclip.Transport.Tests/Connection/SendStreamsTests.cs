using Microsoft.Extensions.Time.Testing;
using Paperclip.Protocol;
using Paperclip.Transport.Internal;
using Paperclip.Transport.Internal.Connection;
using Paperclip.Transport.Internal.Connection.Congestion;

namespace Paperclip.Transport.Tests.Connection;

/// <summary>
/// The sending side of CHANNEL streams and the SEQ window (protocol §2.2, §3.1): CSEQ numbering,
/// the ordered send window, moot reliable sequenced messages, and no SEQ given out 32768 or more
/// past the oldest unacknowledged RELIABLE message.
/// </summary>
public sealed class SendStreamsTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UnixEpoch);
    private readonly TransportSettings _settings;
    private readonly SentMessages _sent;
    private readonly OutgoingPackets _queue = new();
    private readonly ConnectionStatistics _statistics = new();
    private readonly List<(ushort Sequence, int BufferedBytes)> _released = [];

    public SendStreamsTests()
    {
        _settings = CoreKit.Settings(_clock);
        _sent = new SentMessages(_settings, new SequenceCounter(), new WindowCongestion(_settings.MaxDatagramSize))
        {
            Acknowledged = (sequence, bytes) => _released.Add((sequence, bytes)),
        };
    }

    public void Dispose() => _queue.Dispose();

    /// <summary>A reliable channel message numbered and launched as the session core does it.</summary>
    private SentMessage Launch(Delivery delivery, int channel)
    {
        byte[]? rented = null;
        var prepared = OutgoingMessage.Prepare([1, 2, 3], delivery, channel, SendOptions.None, _settings, ref rented);
        var header = prepared.Header;
        _sent.Streams.Number(ref header);
        var message = _sent.Rent();
        message.Start(header, prepared.Data, 0, Framing.Sealed);
        _sent.Launch(message, _queue);
        return message;
    }

    private void Flush(long now = 0)
    {
        _queue.Clear();
        _sent.OnFlushed(now, _clock.GetTimestamp());
    }

    [Fact]
    public void A_resent_message_that_becomes_its_ordered_streams_head_is_resent_at_once()
    {
        // The receiver may have refused the resent copies while they were not the next it waits
        // for (its held bound full); the head it never refuses, so the head goes without waiting.
        var messages = Enumerable.Range(0, 3).Select(_ => Launch(Delivery.ReliableOrdered, 4)).ToArray();
        var other = Launch(Delivery.ReliableOrdered, 5);
        Flush(0);
        Assert.Equal(RetransmitOutcome.Queued, _sent.Retransmit(200, _queue, _statistics));
        Flush(200);
        Assert.All(messages, m => Assert.Equal(1, m.Retries));

        _clock.Advance(TimeSpan.FromMilliseconds(201));
        _sent.OnAck(messages[0].Sequence, 0, 201, _queue, _statistics);
        Assert.Equal([messages[1].Sequence], Enumerable.Range(0, _queue.Count).Select(i => _queue[i].Header.Sequence));
        Flush(201);
        Assert.Equal(2, messages[1].Retries);
        Assert.Equal(1, messages[2].Retries); // not the head: it waits for its timeout
        Assert.Equal(1, other.Retries); // another stream's head did not move
    }

    [Fact]
    public void Every_stream_numbers_its_messages_from_0_on_its_own()
    {
        var wire = new RecordingSink();
        var core = new TestCore(_settings, wire, 0);
        using var keys = CoreKit.Keys();
        core.Activate(keys, isClient: true, ProtocolConstants.Version2, 0);
        var sends = new (Delivery Delivery, int Channel)[]
        {
            (Delivery.ReliableOrdered, 0), (Delivery.ReliableSequenced, 0), (Delivery.ReliableOrdered, 0), (Delivery.UnreliableSequenced, 0),
            (Delivery.ReliableOrdered, 5), (Delivery.ReliableSequenced, 0), (Delivery.UnreliableSequenced, 0), (Delivery.ReliableOrdered, 0),
            (Delivery.UnreliableSequenced, 63), (Delivery.ReliableOrdered, 5),
        };
        foreach (var (delivery, channel) in sends)
            core.SendMessage([9], delivery, channel: channel);
        core.Flush(0, 0);

        using var peer = keys.CreateReceiver(isClient: false);
        var packets = wire.Datagrams.SelectMany(d => CoreKit.Packets(d, peer)).Where(p => p.Header.Type == PacketType.Channel).ToList();
        Assert.Equal(sends.Length, packets.Count);
        var streams = packets.GroupBy(p => (p.Header.Channel, p.Header.Sequenced, Reliable: p.Header.Has(PacketFlags.Reliable)))
            .ToDictionary(g => g.Key, g => g.Select(p => (int)p.Header.ChannelSequence).ToArray());
        Assert.Equal([0, 1, 2], streams[(0, false, true)]);
        Assert.Equal([0, 1], streams[(0, true, true)]);
        Assert.Equal([0, 1], streams[(0, true, false)]);
        Assert.Equal([0, 1], streams[(5, false, true)]);
        Assert.Equal([0], streams[(63, true, false)]);
        // SEQ is one counter for the session whatever the stream (§3.1).
        Assert.Equal(Enumerable.Range(0, sends.Length), packets.Select(p => (int)p.Header.Sequence));
        core.Close(DisconnectReason.Disconnect, notifyPeer: false);
    }

    [Fact]
    public void A_session_of_version_1_refuses_channel_deliveries()
    {
        var core = new TestCore(_settings, new RecordingSink(), 0);
        using var keys = CoreKit.Keys();
        core.Activate(keys, isClient: true, ProtocolConstants.Version1, 0);
        foreach (var delivery in new[] { Delivery.ReliableOrdered, Delivery.ReliableSequenced, Delivery.UnreliableSequenced })
            Assert.Throws<InvalidOperationException>(() => core.SendMessage([1], delivery, channel: 1));
        core.SendMessage([1], Delivery.Reliable); // DEFAULT still goes
        Assert.Equal(1, core.Sent.InFlightCount);
        core.Close(DisconnectReason.Disconnect, notifyPeer: false);
    }

    [Fact]
    public void An_ordered_message_4096_past_the_oldest_unacknowledged_of_its_stream_waits_until_that_one_is_acknowledged()
    {
        var oldest = Launch(Delivery.ReliableOrdered, 3);
        Flush();
        // Messages 1 … 4095 launch and are acknowledged at once; message 0 stays unacknowledged.
        for (var i = 1; i < ProtocolConstants.OrderedSendWindow; i++)
        {
            var message = Launch(Delivery.ReliableOrdered, 3);
            Assert.Equal(0, _sent.BacklogCount);
            Flush();
            _sent.OnAck(message.Sequence, 0, 0, _queue, _statistics);
        }
        Assert.Equal(1, _sent.InFlightCount);

        var waiting = Launch(Delivery.ReliableOrdered, 3);
        Assert.Equal(4096, waiting.ChannelSequence);
        Assert.Equal(1, _sent.BacklogCount);
        Assert.Equal(0, _queue.Count); // not queued: no SEQ, nothing on the wire
        Flush();
        Assert.False(waiting.IsOut);

        _sent.OnAck(oldest.Sequence, 0, 0, _queue, _statistics);
        Assert.Equal(0, _sent.BacklogCount);
        Assert.Same(waiting, _queue[0].Message);
        Assert.Equal(4096, _queue[0].Header.ChannelSequence);
        Flush();
        Assert.True(waiting.IsOut);
    }

    [Fact]
    public void The_send_window_counts_per_stream()
    {
        Launch(Delivery.ReliableOrdered, 3);
        Flush();
        for (var i = 1; i < ProtocolConstants.OrderedSendWindow; i++)
        {
            var message = Launch(Delivery.ReliableOrdered, 3);
            Flush();
            _sent.OnAck(message.Sequence, 0, 0, _queue, _statistics);
        }
        // Channel 4's stream has nothing unacknowledged: it is inside its window.
        var other = Launch(Delivery.ReliableOrdered, 4);
        Assert.Equal(0, _sent.BacklogCount);
        Assert.Same(other, _queue[0].Message);
    }

    [Fact]
    public void Older_reliable_sequenced_messages_stop_being_resent_once_a_newer_one_is_acknowledged()
    {
        var first = Launch(Delivery.ReliableSequenced, 2);
        var second = Launch(Delivery.ReliableSequenced, 2);
        var third = Launch(Delivery.ReliableSequenced, 2);
        var ordered = Launch(Delivery.ReliableOrdered, 2);
        var otherChannel = Launch(Delivery.ReliableSequenced, 7);
        Flush();
        _clock.Advance(TimeSpan.FromMilliseconds(20));

        _sent.OnAck(second.Sequence, 0, 0, _queue, _statistics);
        Assert.Contains(_released, r => r.Sequence == first.Sequence); // moot: counted as acknowledged, its bytes released
        Assert.Equal(3, _sent.InFlightCount); // third, the ordered one, the other channel's

        _sent.OnAck(third.Sequence, 0, 0, _queue, _statistics);
        Assert.Equal(2, _sent.InFlightCount);
        Assert.Equal([first.Sequence, second.Sequence, third.Sequence], _released.Select(r => r.Sequence));
        Assert.All(_released, r => Assert.Equal(3, r.BufferedBytes));

        // Only the ordered message and the other channel's are retransmitted when their backoff runs out.
        Assert.Equal(RetransmitOutcome.Queued, _sent.Retransmit(10_000, _queue, _statistics));
        Assert.Equal([ordered, otherChannel], Enumerable.Range(0, _queue.Count).Select(i => _queue[i].Message).ToHashSet());
        Assert.Equal(2, _statistics.Retransmissions);
    }

    [Fact]
    public void A_late_ACK_of_a_moot_message_changes_nothing()
    {
        var first = Launch(Delivery.ReliableSequenced, 2);
        var second = Launch(Delivery.ReliableSequenced, 2);
        Flush();
        _sent.OnAck(second.Sequence, 0, 0, _queue, _statistics);
        _sent.OnAck(first.Sequence, 0, 0, _queue, _statistics);
        Assert.Equal(2, _released.Count);
        Assert.Equal(0, _sent.InFlightCount);
        Assert.Equal(0, _sent.InFlightPackets);
    }

    [Fact]
    public void No_SEQ_is_given_out_32768_or_more_past_the_oldest_unacknowledged_reliable_message()
    {
        using var keys = CoreKit.Keys();
        var wire = new RecordingSink();
        var sender = new TestCore(_settings, wire, 0);
        var receiverWire = new RecordingSink();
        var receiver = new TestCore(_settings, receiverWire, 0);
        sender.Activate(keys, isClient: true, ProtocolConstants.Version2, 0);
        receiver.Activate(keys, isClient: false, ProtocolConstants.Version2, 0);

        sender.SendMessage("oldest"u8, Delivery.Reliable); // SEQ 0, left unacknowledged
        sender.Flush(0, 0);
        var oldest = Assert.Single(wire.Datagrams);
        wire.Datagrams.Clear();
        // SEQ 1 … 32767 go to unreliable messages (and are the last that may).
        for (var i = 1; i < ProtocolConstants.SequenceWindow; i++)
        {
            sender.SendMessage([1], Delivery.Unreliable);
            if (i % 1000 == 0)
            {
                sender.Flush(0, 0);
                wire.Datagrams.Clear();
            }
        }
        sender.Flush(0, 0);
        wire.Datagrams.Clear();
        Assert.Equal(0, sender.Statistics.UnreliableDropped);
        Assert.False(sender.Sent.CanTakeSequence);

        sender.SendMessage([2], Delivery.Unreliable); // would take SEQ 32768: dropped
        sender.SendMessage("waits"u8, Delivery.Reliable); // waits for the window
        sender.SendMessage([2], Delivery.UnreliableSequenced, channel: 1); // dropped too
        sender.Flush(0, 0);
        Assert.Empty(wire.Datagrams);
        Assert.Equal(2, sender.Statistics.UnreliableDropped);
        Assert.Equal(1, sender.Sent.BacklogCount);

        // The oldest is acknowledged: the waiting message takes SEQ 32768 and leaves.
        receiver.Receive(oldest, CoreKit.Header(oldest), 1);
        receiver.Flush(1, 0);
        foreach (var ack in receiverWire.Datagrams)
            sender.Receive(ack, CoreKit.Header(ack), 2);
        Assert.Equal(0, sender.Sent.BacklogCount);
        sender.Flush(2, 0);
        using var peer = keys.CreateReceiver(isClient: false);
        var launched = Assert.Single(wire.Datagrams.SelectMany(d => CoreKit.Packets(d, peer)));
        Assert.Equal(32_768, launched.Header.Sequence);
        Assert.Equal("waits"u8.ToArray(), launched.Data);
        Assert.True(sender.Sent.CanTakeSequence);
        sender.Close(DisconnectReason.Disconnect, notifyPeer: false);
        receiver.Close(DisconnectReason.Disconnect, notifyPeer: false);
    }
}
