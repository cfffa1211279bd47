using Microsoft.Extensions.Time.Testing;
using Paperclip.Transport.Internal;
using Paperclip.Transport.Internal.Connection;
using Paperclip.Transport.Internal.Connection.Congestion;

namespace Paperclip.Transport.Tests.Connection;

public sealed class SentMessagesTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UnixEpoch);
    private readonly SequenceCounter _sequences = new();
    private readonly WindowCongestion _congestion = new(Datagram);
    private readonly OutgoingPackets _queue = new();
    private readonly ConnectionStatistics _statistics = new();
    private const int Datagram = 1200;
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

    // A message of this size weighs half a datagram (its bytes and one packet's overhead): the
    // initial window of 64 datagrams holds 128 of them.
    private const int HalfDatagram = (Datagram / 2) - 16;
    private const int TenBytesWeight = 10 + 16;

    [Fact]
    public void Message_beyond_the_window_waits_in_the_backlog_without_a_sequence_id()
    {
        for (var i = 0; i < 128; i++)
            Launch(HalfDatagram);
        Assert.Equal(64 * Datagram, _sent.InFlightBytes);
        var waiting = Launch(HalfDatagram);
        Assert.Equal(1, _sent.BacklogCount);
        Assert.Equal(128, _queue.Count);
        Assert.Equal(128, _sequences.Next); // no id taken for it
        // Once something waits, later messages queue behind it even if they would fit.
        Launch(1);
        Assert.Equal(2, _sent.BacklogCount);
        Flush(0);
        Assert.False(waiting.IsOut);
    }

    [Fact]
    public void Small_messages_weigh_their_bytes_so_many_share_one_datagrams_worth_of_window()
    {
        // 64 B messages, as a BATCH carries them: about fifteen to a datagram, not one.
        while (_sent.BacklogCount == 0)
            Launch(64);
        Assert.Equal((int)(64 * Datagram / (64 + 16)), _sent.InFlightCount);
    }

    [Fact]
    public void An_ACK_gives_one_RTT_sample_timed_from_the_newest_message_it_acknowledges()
    {
        Launch();
        Flush(0);
        _clock.Advance(TimeSpan.FromMilliseconds(30));
        Launch();
        Flush(30);
        _clock.Advance(TimeSpan.FromMilliseconds(10));

        _sent.OnAck(ackId: 1, ackBits: 0b1, 40, _queue, _statistics); // 1 (sent 10 ms ago) and 0 (40 ms ago)

        Assert.Equal(0, _sent.InFlightCount);
        Assert.Equal(10, _sent.Rtt.SmoothedMs); // a second sample of 40 ms would have made it 13.75
        Assert.Equal(5, _sent.Rtt.VariationMs);
    }

    [Fact]
    public void ACK_and_ACK_BITS_land_messages_and_launch_the_backlog_in_order()
    {
        var sent = Enumerable.Range(0, 128).Select(_ => Launch(HalfDatagram)).ToArray();
        var waiting = Enumerable.Range(0, 3).Select(_ => Launch(HalfDatagram)).ToArray();
        Flush(0);
        _clock.Advance(TimeSpan.FromMilliseconds(50));

        _sent.OnAck(ackId: 16, ackBits: AllBits, 50, _queue, _statistics); // 16 and 15 … 0
        Assert.Equal(128 - 17, _sent.InFlightCount - waiting.Length);
        Assert.Equal(0, _sent.BacklogCount);
        Assert.Equal([128, 129, 130], waiting.Select(m => (int)m.Sequence));
        Assert.Equal(waiting, Enumerable.Range(0, _queue.Count).Select(i => _queue[i].Message));
        Assert.Equal((64 * Datagram) + (17 * Datagram / 2), _congestion.Window); // slow start: the bytes acknowledged
        Assert.Equal(50, _sent.Rtt.SmoothedMs);
        Assert.True(sent[17].IsOut);
        Assert.Equal(0, _statistics.Retransmissions); // nothing older was outstanding
    }

    [Fact]
    public void ACK_for_an_id_never_sent_or_already_acknowledged_changes_nothing()
    {
        Launch();
        Launch();
        Flush(0);
        _sent.OnAck(1, 0, 0, _queue, _statistics);
        var window = _congestion.Window;
        _sent.OnAck(1, 0, 0, _queue, _statistics);
        _sent.OnAck(500, 0, 0, _queue, _statistics);
        Assert.Equal(1, _sent.InFlightCount);
        Assert.Equal(1, _sent.InFlightPackets);
        Assert.Equal(window, _congestion.Window);
        Assert.Equal(0, _statistics.Retransmissions);
    }

    [Fact]
    public void Messages_three_or_more_ids_below_one_acknowledged_are_resent_at_once_and_halve_the_window_once()
    {
        var messages = Enumerable.Range(0, 10).Select(_ => Launch()).ToArray();
        Flush(0);
        _clock.Advance(TimeSpan.FromMilliseconds(1));

        _sent.OnAck(5, 0, now: 1, _queue, _statistics);
        // 0, 1, 2 are overtaken by three or more; 3 and 4 may only be reordered.
        Assert.Equal([0, 1, 2], Enumerable.Range(0, _queue.Count).Select(i => (int)_queue[i].Header.Sequence));
        Assert.Equal(3, _statistics.Retransmissions);
        var halved = ((64 * Datagram) + TenBytesWeight) / 2; // grown by the ACK, then cut
        Assert.Equal(halved, _congestion.Window);
        Flush(1);
        Assert.All(messages[..3], m => Assert.Equal(1, m.Retries));

        // Each id is looked at once: the next ACK resends only what it newly shows missing.
        _sent.OnAck(6, 0, now: 1, _queue, _statistics);
        Assert.Equal([3], Enumerable.Range(0, _queue.Count).Select(i => (int)_queue[i].Header.Sequence));
        Assert.Equal(halved, _congestion.Window); // sent before the cut: the same loss event, and no growth
        Flush(1);

        // Ids looked at before are not looked at again: 0 … 2, resent once, wait for their timeout
        // (an ACK could not tell which copy it answers).
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        _sent.OnAck(9, 0b1, now: 2, _queue, _statistics); // 9 and 8
        Assert.Equal([4], Enumerable.Range(0, _queue.Count).Select(i => (int)_queue[i].Header.Sequence));
        Assert.Equal(5, _statistics.Retransmissions);
    }

    [Fact]
    public void A_resent_copy_that_left_before_an_acknowledged_message_is_resent_again_without_waiting_its_doubled_timeout()
    {
        var resent = Launch();
        Flush(0);
        Assert.Equal(RetransmitOutcome.Queued, _sent.Retransmit(200, _queue, _statistics));
        Flush(200);
        _clock.Advance(TimeSpan.FromMilliseconds(201));
        var later = Launch(); // the next id: no packet threshold applies
        Flush(201);

        _clock.Advance(TimeSpan.FromMilliseconds(5));
        _sent.OnAck(later.Sequence, 0, 206, _queue, _statistics);
        // The copy sent at 200 left before the one acknowledged (201): it went missing too.
        Assert.Equal([resent.Sequence], Enumerable.Range(0, _queue.Count).Select(i => _queue[i].Header.Sequence));
        Assert.Equal(2, _statistics.Retransmissions);
        Flush(206);

        // Not again for the same evidence: the new copy left after it.
        _sent.OnAck(later.Sequence, 0, 207, _queue, _statistics);
        Assert.Equal(0, _queue.Count);
    }

    [Fact]
    public void A_loss_after_the_cut_cuts_again()
    {
        var first = Enumerable.Range(0, 5).Select(_ => Launch()).ToArray();
        Flush(0);
        _sent.OnAck(4, 0, now: 1, _queue, _statistics); // 0, 1 lost
        Flush(1);
        Assert.Equal(((64 * Datagram) + TenBytesWeight) / 2, _congestion.Window);
        for (var i = 0; i < 5; i++)
            Launch(); // 5 … 9, sent after the cut
        Flush(2);
        // 5, 6 lost; and 2, 3 with them, sent before the cut; and 0, 1 again, whose copies left at 1,
        // before 9 left at 2.
        _sent.OnAck(9, 0, now: 3, _queue, _statistics);
        Assert.InRange(_congestion.Window, 16 * Datagram, (16 * Datagram) + 10); // halved again
        Assert.Equal(2 + 4 + 2, _statistics.Retransmissions);
        Assert.Equal(2, first[0].Retries);
    }

    [Fact]
    public void ACK_before_the_message_left_is_not_for_it()
    {
        var message = Launch();
        _sent.OnAck(message.Sequence, 0, 0, _queue, _statistics);
        Assert.Equal(1, _sent.InFlightCount);
    }

    [Fact]
    public void Message_acknowledged_without_a_retransmission_gives_an_RTT_sample()
    {
        var message = Launch();
        Flush(0);
        _clock.Advance(TimeSpan.FromMilliseconds(40));
        _sent.OnAck(message.Sequence, 0, 0, _queue, _statistics);
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
        _sent.OnAck(message.Sequence, 0, 0, _queue, _statistics);
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
        Assert.True(_congestion.Window < 64 * Datagram);
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
        // A sample first: SRTT 100 ms, RTO 100 + 4 × 50 + 10 = 310 ms; the window is 64.5 datagrams
        // after it, room for 129 messages of half a datagram.
        var probe = Launch(HalfDatagram);
        Flush(0);
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        _sent.OnAck(probe.Sequence, 0, 100, _queue, _statistics);
        Assert.Equal(310, _sent.Rtt.TimeoutMs);
        for (var i = 0; i < 129; i++)
            Launch(HalfDatagram);
        Assert.Equal(0, _sent.BacklogCount);
        Flush(100);

        // The first wave has a whole window of credit: everything goes, and the window halves.
        Assert.Equal(RetransmitOutcome.Queued, _sent.Retransmit(410, _queue, _statistics));
        Assert.Equal(129, _statistics.Retransmissions);
        Flush(410);
        Assert.Equal(64.5 * Datagram / 2, _congestion.Window);

        // The second wave (all due at 410 + 620) may send one window's worth; the others wait for credit.
        Assert.True(_sent.Deadline <= 1030);
        Assert.Equal(RetransmitOutcome.Queued, _sent.Retransmit(1030, _queue, _statistics));
        var secondWave = _statistics.Retransmissions - 129;
        Assert.InRange(secondWave, 64, 66);
        Flush(1030);
        // Credit accrues at 387 bytes per ms: the rest are looked at again within a few ms.
        Assert.InRange(_sent.Deadline, 1031, 1034);
        var before = _statistics.Retransmissions;
        var now = 1030L;
        while (_statistics.Retransmissions - 129 < 129)
        {
            now = _sent.Deadline;
            // Paced at the halved window per SRTT (64 messages per 100 ms): one SRTT and a little.
            Assert.True(now < 1150, "the rest were resent at the window's pace");
            _sent.Retransmit(now, _queue, _statistics);
            Flush(now);
        }
        Assert.True(now > 1090 && _statistics.Retransmissions > before);
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
        _sent.OnAck(0, 0, 0, _queue, _statistics);
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
        _sent.OnAck(large.Sequence, 0, 0, _queue, _statistics);
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
        _sent.OnAck(message.Sequence, 0, 0, _queue, _statistics);
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
                _sent.OnAck(inFlight[random.Next(inFlight.Length)].Sequence, (ushort)random.Next(), 0, _queue, _statistics);
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
        _sent.OnAck(second.Sequence, 0, 0, _queue, _statistics);
        Assert.Equal(70, _sent.Rtt.TimeoutMs); // 20 + 4 × 10 + the peer's 10 ms ACK delay
        // The first message is due again at 0 + 70.
        Assert.True(_sent.Deadline <= first.LastSentMs + 70, $"deadline {_sent.Deadline}, due at 70");
    }
}
