using Microsoft.Extensions.Time.Testing;
using Paperclip.Transport.Internal;
using Paperclip.Transport.Internal.Connection;
using Paperclip.Transport.Internal.Connection.Congestion;

namespace Paperclip.Transport.Tests.Connection;

public sealed class SentMessagesTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UnixEpoch);
    private readonly SequenceCounter _sequences = new();
    private readonly WindowCongestion _congestion = new();
    private readonly OutgoingPackets _queue = new();
    private readonly ConnectionStatistics _statistics = new();
    private TransportSettings _settings;
    private SentMessages _sent;

    public SentMessagesTests()
    {
        _settings = CoreKit.Settings(_clock);
        _sent = new SentMessages(_settings, _sequences, _congestion);
    }

    public void Dispose() => _queue.Dispose();

    private void Configure(Action<PaperclipClientOptions> configure)
    {
        _settings = CoreKit.Settings(_clock, configure);
        _sent = new SentMessages(_settings, _sequences, _congestion);
    }

    /// <summary>A RELIABLE sealed message of <paramref name="size"/> bytes, prepared as the session does.</summary>
    private SentMessage Message(int size, byte fill = 0)
    {
        var data = new byte[size];
        Array.Fill(data, fill);
        byte[]? rented = null;
        var prepared = OutgoingMessage.Prepare(data, Delivery.Reliable, 0, SendOptions.None, _settings, ref rented);
        var message = _sent.Rent();
        var header = prepared.Header;
        var chunk = (header.Flags & Paperclip.Protocol.PacketFlags.Frag) != 0
            ? OutgoingMessage.ChunkCapacity(_settings.MaxDatagramSize, header, prepared.Sealed)
            : 0;
        message.Start(header, prepared.Data, chunk, Framing.Sealed);
        return message;
    }

    private SentMessage Launch(int size = 10)
    {
        var message = Message(size);
        _sent.Launch(message, _queue);
        return message;
    }

    /// <summary>What a session's flush does: the packets leave, their timers start.</summary>
    private void Flush(long now)
    {
        _queue.Clear();
        _sent.OnFlushed(now, _clock.GetTimestamp());
    }

    private static ushort AllBits => 0xFFFF;

    [Fact]
    public void Messages_within_the_window_launch_at_once_with_consecutive_sequence_ids()
    {
        var messages = Enumerable.Range(0, 3).Select(_ => Launch()).ToArray();
        Assert.Equal([0, 1, 2], messages.Select(m => (int)m.Sequence));
        Assert.Equal(3, _queue.Count);
        Assert.Equal(3, _sent.InFlightCount);
        Assert.Equal(3, _sent.InFlightPackets);
        Assert.Equal(0, _sent.BacklogCount);
        Assert.Same(messages[1], _queue[1].Message);
    }

    [Fact]
    public void Message_beyond_the_window_waits_in_the_backlog_without_a_sequence_id()
    {
        for (var i = 0; i < 64; i++)
            Launch();
        var waiting = Launch();
        Assert.Equal(1, _sent.BacklogCount);
        Assert.Equal(64, _queue.Count);
        Assert.Equal(64, _sequences.Next); // no id taken for it
        // Once something waits, later messages queue behind it even if they would fit.
        Launch();
        Assert.Equal(2, _sent.BacklogCount);
        Flush(0);
        Assert.False(waiting.IsOut);
    }

    [Fact]
    public void ACK_and_ACK_BITS_land_messages_and_launch_the_backlog_in_order()
    {
        var sent = Enumerable.Range(0, 64).Select(_ => Launch()).ToArray();
        var waiting = Enumerable.Range(0, 3).Select(_ => Launch()).ToArray();
        Flush(0);
        _clock.Advance(TimeSpan.FromMilliseconds(50));

        _sent.OnAck(ackId: 63, ackBits: AllBits, _queue); // 63 and 62 … 47
        Assert.Equal(64 - 17, _sent.InFlightCount - waiting.Length);
        Assert.Equal(0, _sent.BacklogCount);
        Assert.Equal([64, 65, 66], waiting.Select(m => (int)m.Sequence));
        Assert.Equal(waiting, Enumerable.Range(0, _queue.Count).Select(i => _queue[i].Message));
        Assert.Equal(64 + 17, _congestion.Window); // slow start: one packet per packet acknowledged
        Assert.Equal(50, _sent.Rtt.SmoothedMs);
        Assert.True(sent[46].IsOut);
    }

    [Fact]
    public void ACK_for_an_id_never_sent_or_already_acknowledged_changes_nothing()
    {
        Launch();
        Launch();
        Flush(0);
        _sent.OnAck(1, 0, _queue);
        _sent.OnAck(1, 0, _queue);
        _sent.OnAck(500, 0, _queue);
        Assert.Equal(1, _sent.InFlightCount);
        Assert.Equal(1, _sent.InFlightPackets);
        Assert.Equal(65, _congestion.Window);
    }

    [Fact]
    public void ACK_before_the_message_left_is_not_for_it()
    {
        var message = Launch();
        _sent.OnAck(message.Sequence, 0, _queue);
        Assert.Equal(1, _sent.InFlightCount);
    }

    [Fact]
    public void Message_acknowledged_without_a_retransmission_gives_an_RTT_sample()
    {
        var message = Launch();
        Flush(0);
        _clock.Advance(TimeSpan.FromMilliseconds(40));
        _sent.OnAck(message.Sequence, 0, _queue);
        Assert.Equal(40, _sent.Rtt.SmoothedMs);
    }

    [Fact]
    public void Retransmitted_message_gives_no_RTT_sample_Karn()
    {
        var message = Launch();
        Flush(0);
        _clock.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal(RetransmitOutcome.Queued, _sent.Retransmit(200, _queue, _statistics));
        Flush(200);
        _clock.Advance(TimeSpan.FromMilliseconds(10));
        // The ACK may be for the first transmission (210 ms) or the second (10 ms): no sample.
        _sent.OnAck(message.Sequence, 0, _queue);
        Assert.Equal(0, _sent.InFlightCount);
        Assert.Equal(0, _sent.Rtt.SmoothedMs);
        Assert.Equal(200, _sent.Rtt.TimeoutMs);
    }

    [Fact]
    public void Unacknowledged_message_is_retransmitted_after_its_backoff_which_doubles()
    {
        var message = Launch();
        Flush(0);
        Assert.Equal(200, _sent.Deadline); // the initial RTO
        Assert.Equal(RetransmitOutcome.Nothing, _sent.Retransmit(199, _queue, _statistics));
        Assert.Equal(0, _queue.Count);

        Assert.Equal(RetransmitOutcome.Queued, _sent.Retransmit(200, _queue, _statistics));
        Assert.Equal(1, _queue.Count);
        Assert.Same(message, _queue[0].Message);
        Assert.Equal(message.Sequence, _queue[0].Header.Sequence); // the same id: the ACK of either copy lands it
        Flush(200);
        Assert.Equal(1, message.Retries);
        Assert.True(_sent.Deadline <= 600);

        Assert.Equal(RetransmitOutcome.Nothing, _sent.Retransmit(599, _queue, _statistics));
        Assert.Equal(600, _sent.Deadline);
        Assert.Equal(RetransmitOutcome.Queued, _sent.Retransmit(600, _queue, _statistics));
        Flush(600);
        Assert.Equal(RetransmitOutcome.Nothing, _sent.Retransmit(1399, _queue, _statistics));
        Assert.Equal(RetransmitOutcome.Queued, _sent.Retransmit(1400, _queue, _statistics));
        Flush(1400);
        Assert.Equal(RetransmitOutcome.Nothing, _sent.Retransmit(2999, _queue, _statistics));
        Assert.Equal(RetransmitOutcome.Queued, _sent.Retransmit(3000, _queue, _statistics));
        Flush(3000);
        // 3200 would be next, but the maximum retransmission timeout (2 s) caps it.
        Assert.Equal(RetransmitOutcome.Nothing, _sent.Retransmit(4999, _queue, _statistics));
        Assert.Equal(RetransmitOutcome.Queued, _sent.Retransmit(5000, _queue, _statistics));
        Assert.Equal(5, _statistics.Retransmissions);
        Assert.True(_congestion.Window < 64);
    }

    [Fact]
    public void Message_unacknowledged_past_the_reliable_timeout_expires()
    {
        Configure(o => o.ReliableTimeout = TimeSpan.FromSeconds(5));
        Launch();
        Flush(1000);
        var now = 1000L;
        while (_sent.Deadline < 6000)
        {
            now = _sent.Deadline;
            Assert.NotEqual(RetransmitOutcome.Expired, _sent.Retransmit(now, _queue, _statistics));
            Flush(now);
        }
        Assert.Equal(6000, _sent.Deadline);
        Assert.Equal(RetransmitOutcome.Expired, _sent.Retransmit(6000, _queue, _statistics));
    }

    [Fact]
    public void Retransmissions_are_paced_to_the_window_per_smoothed_RTT_and_the_rest_stay_due()
    {
        // A sample first: SRTT 100 ms, RTO 300 ms; the window is 65 after it.
        var probe = Launch();
        Flush(0);
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        _sent.OnAck(probe.Sequence, 0, _queue);
        Assert.Equal(300, _sent.Rtt.TimeoutMs);
        for (var i = 0; i < 65; i++)
            Launch();
        Assert.Equal(0, _sent.BacklogCount);
        Flush(100);

        // The first wave has a whole window of credit: everything goes, and the window halves.
        Assert.Equal(RetransmitOutcome.Queued, _sent.Retransmit(400, _queue, _statistics));
        Assert.Equal(65, _statistics.Retransmissions);
        Flush(400);
        Assert.Equal(32.5, _congestion.Window);

        // The second wave (all due at 400 + 600) may send one window's worth; the others wait for credit.
        Assert.True(_sent.Deadline <= 1000);
        Assert.Equal(RetransmitOutcome.Queued, _sent.Retransmit(1000, _queue, _statistics));
        var secondWave = _statistics.Retransmissions - 65;
        Assert.InRange(secondWave, 32, 34);
        Flush(1000);
        // Credit accrues at 32.5 packets per 100 ms: the rest are looked at again within a few ms.
        Assert.InRange(_sent.Deadline, 1001, 1004);
        var before = _statistics.Retransmissions;
        var now = 1000L;
        while (_statistics.Retransmissions - 65 < 65)
        {
            now = _sent.Deadline;
            // Paced at the halved window per SRTT (about 16 packets per 100 ms): two SRTTs and a little.
            Assert.True(now < 1250, "the rest were resent at the window's pace");
            _sent.Retransmit(now, _queue, _statistics);
            Flush(now);
        }
        Assert.True(now > 1000 && _statistics.Retransmissions > before);
    }

    [Fact]
    public void Fragmented_messages_in_flight_stay_within_the_peers_partial_message_count()
    {
        Configure(o => o.MaxPartialMessages = 2);
        Launch(3000);
        Launch(3000);
        var third = Launch(3000);
        Assert.Equal(2, _sent.InFlightCount);
        Assert.Equal(1, _sent.BacklogCount);
        Assert.Equal(6, _sent.InFlightPackets); // 3 fragments each
        Flush(0);
        _sent.OnAck(0, 0, _queue);
        Assert.Equal(0, _sent.BacklogCount);
        Assert.Equal(2, third.Sequence);
    }

    [Fact]
    public void Fragmented_messages_in_flight_stay_within_the_peers_partial_bytes()
    {
        Configure(o => o.MaxPartialBytes = 5000);
        Launch(3000);
        Launch(3000);
        Launch(100); // it would fit, but waits behind the fragmented one, in order
        Assert.Equal(1, _sent.InFlightCount);
        Assert.Equal(2, _sent.BacklogCount);
    }

    [Fact]
    public void Message_larger_than_the_window_goes_alone_when_nothing_else_is_in_flight()
    {
        var large = Launch(200_000);
        Assert.True(large.PacketCount > 64);
        Assert.Equal(1, _sent.InFlightCount);
        Launch();
        Assert.Equal(1, _sent.BacklogCount);
        Flush(0);
        _sent.OnAck(large.Sequence, 0, _queue);
        Assert.Equal(0, _sent.BacklogCount);
        Assert.Equal(1, _sent.InFlightCount);
    }

    [Fact]
    public void Message_acknowledged_before_a_flush_is_not_reused_until_the_flush()
    {
        var message = Launch();
        Flush(0);
        Assert.Equal(RetransmitOutcome.Queued, _sent.Retransmit(200, _queue, _statistics));
        // The queued retransmission still points at the message when its ACK arrives.
        _sent.OnAck(message.Sequence, 0, _queue);
        var other = _sent.Rent();
        Assert.NotSame(message, other);
        Assert.Same(message, _queue[0].Message);
        Assert.Equal(10, _queue.Data(_queue[0]).Length);
        Flush(210);
        Assert.Same(message, _sent.Rent());
    }

    [Fact]
    public void Deadline_is_never_later_than_the_next_due_retransmission()
    {
        // The RTO is held at its 10 ms floor (samples of 0 ms on a still clock), so this checks
        // launches, ACKs, backoff and pacing; an RTO that shrinks is the test below.
        Configure(o => o.InitialRetransmissionTimeout = TimeSpan.FromMilliseconds(10));
        var all = new HashSet<SentMessage>();
        var now = 0L;
        var random = new Random(5);
        for (var round = 0; round < 300; round++)
        {
            for (var i = random.Next(4); i > 0; i--)
                all.Add(Launch(random.Next(1, 3000)));
            Flush(now);
            var inFlight = all.Where(m => m.IsOut).ToArray();
            if (random.Next(3) == 0 && inFlight.Length > 0)
                _sent.OnAck(inFlight[random.Next(inFlight.Length)].Sequence, (ushort)random.Next(), _queue);
            now += random.Next(1, 40);
            if (_sent.Deadline <= now)
                Assert.NotEqual(RetransmitOutcome.Expired, _sent.Retransmit(now, _queue, _statistics));
            Flush(now);
            foreach (var message in all.Where(m => m.IsOut))
            {
                var due = message.LastSentMs + (long)_sent.Rtt.BackoffMs(message.Retries);
                Assert.True(_sent.Deadline <= Math.Max(due, now + 1), $"round {round}: deadline {_sent.Deadline} later than a retransmission due at {due}");
            }
        }
        Assert.True(_statistics.Retransmissions > 0);
    }

    [Fact]
    public void Deadline_follows_an_RTO_that_shrank()
    {
        var first = Launch();
        Flush(0);
        Assert.Equal(200, _sent.Deadline); // initial RTO
        var second = Launch();
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Flush(1);
        _clock.Advance(TimeSpan.FromMilliseconds(20));
        _sent.OnAck(second.Sequence, 0, _queue);
        Assert.Equal(60, _sent.Rtt.TimeoutMs); // 20 + 4 × 10
        // The first message is due again at 0 + 60.
        Assert.True(_sent.Deadline <= first.LastSentMs + 60, $"deadline {_sent.Deadline}, due at 60");
    }
}
