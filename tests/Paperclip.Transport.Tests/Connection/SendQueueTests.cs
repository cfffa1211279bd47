using System.Buffers;
using System.Buffers.Binary;
using Paperclip.Protocol;
using Paperclip.Transport.Internal;
using Paperclip.Transport.Internal.Connection;

namespace Paperclip.Transport.Tests.Connection;

public sealed class SendQueueTests : IDisposable
{
    private readonly TransportSettings _settings = CoreKit.Settings(configure: o => o.EncryptionPolicy = EncryptionPolicy.Optional);
    private readonly RecordingSink _wire = new();
    private readonly TestCore _sender;
    private readonly TestCore _receiver;
    private readonly SendQueue _queue = new();

    public SendQueueTests()
    {
        // The queue drains into a real core; a second core reads what it sent, as the peer would.
        _sender = new TestCore(_settings, _wire, 0);
        _receiver = new TestCore(_settings, new RecordingSink(), 0);
        using var keys = CoreKit.Keys();
        _sender.Activate(keys, isClient: true, ProtocolConstants.Version2, 0);
        _receiver.Activate(keys, isClient: false, ProtocolConstants.Version2, 0);
    }

    public void Dispose()
    {
        _queue.Dispose();
        _sender.Close(DisconnectReason.Disconnect, notifyPeer: false);
        _receiver.Close(DisconnectReason.Disconnect, notifyPeer: false);
    }

    private bool Enqueue(ReadOnlySpan<byte> data, Delivery delivery, SendOptions options)
    {
        byte[]? rented = null;
        try
        {
            return _queue.Enqueue(OutgoingMessage.Prepare(data, delivery, 0, options, _settings, ref rented), 0);
        }
        finally
        {
            if (rented is not null)
                ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private List<(byte[] Data, PacketFlags Flags)> DrainAndDeliver()
    {
        _queue.DrainInto(_sender, 0, long.MaxValue);
        _sender.Flush(0, 0);
        foreach (var datagram in _wire.Datagrams)
            _receiver.Receive(datagram, CoreKit.Header(datagram), 0);
        _wire.Datagrams.Clear();
        return _receiver.Messages;
    }

    [Fact]
    public void Enqueue_returns_true_only_when_the_queue_was_empty()
    {
        Assert.True(Enqueue("a"u8, Delivery.Reliable, SendOptions.None));
        Assert.False(Enqueue("b"u8, Delivery.Reliable, SendOptions.None));
        Assert.False(Enqueue("c"u8, Delivery.Unreliable, SendOptions.None));
        DrainAndDeliver();
        Assert.True(Enqueue("d"u8, Delivery.Reliable, SendOptions.None));
    }

    [Fact]
    public void Drained_messages_are_the_ones_enqueued_with_their_delivery_options_and_fragments()
    {
        var large = new byte[20_000];
        new Random(3).NextBytes(large);
        var repetitive = new byte[30_000];
        Array.Fill(repetitive, (byte)'z');
        var sent = new (byte[] Data, Delivery Delivery, SendOptions Options)[]
        {
            ("small"u8.ToArray(), Delivery.Reliable, SendOptions.None),
            (large, Delivery.Reliable, SendOptions.Checksum),
            (repetitive, Delivery.Reliable, SendOptions.Compress | SendOptions.Checksum),
            ("plain"u8.ToArray(), Delivery.Unreliable, SendOptions.Plaintext),
            (large[..5000], Delivery.Unreliable, SendOptions.Plaintext | SendOptions.Checksum),
            ([], Delivery.Unreliable, SendOptions.None),
        };
        foreach (var (data, delivery, options) in sent)
            Enqueue(data, delivery, options);

        var received = DrainAndDeliver();
        Assert.Equal(sent.Length, received.Count);
        foreach (var (data, delivery, options) in sent)
        {
            var expected = (delivery == Delivery.Reliable ? PacketFlags.Reliable : 0)
                | ((options & SendOptions.Checksum) != 0 ? PacketFlags.Checksum : 0)
                | ((options & SendOptions.Compress) != 0 ? PacketFlags.Compressed : 0)
                | ((options & SendOptions.Plaintext) != 0 ? 0 : PacketFlags.Encrypted);
            Assert.Contains(received, r => r.Data.AsSpan().SequenceEqual(data) && (r.Flags & ~PacketFlags.Frag) == expected);
        }
    }

    [Fact]
    public void Order_of_each_producer_is_kept_when_many_threads_enqueue_at_once()
    {
        const int Producers = 4;
        const int PerProducer = 500;
        using var start = new Barrier(Producers);
        var wasEmpty = 0;
        var threads = Enumerable.Range(0, Producers).Select(p => new Thread(() =>
        {
            Span<byte> record = stackalloc byte[8 + (p * 10)];
            start.SignalAndWait();
            for (var i = 0; i < PerProducer; i++)
            {
                BinaryPrimitives.WriteInt32LittleEndian(record, p);
                BinaryPrimitives.WriteInt32LittleEndian(record[4..], i);
                if (Enqueue(record, Delivery.Unreliable, SendOptions.None))
                    Interlocked.Increment(ref wasEmpty);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Equal(1, wasEmpty); // only the very first found it empty: one wake-up for the loop

        var received = DrainAndDeliver();
        Assert.Equal(Producers * PerProducer, received.Count);
        for (var p = 0; p < Producers; p++)
        {
            var counters = received.Where(r => BinaryPrimitives.ReadInt32LittleEndian(r.Data) == p)
                .Select(r => BinaryPrimitives.ReadInt32LittleEndian(r.Data.AsSpan(4)));
            Assert.Equal(Enumerable.Range(0, PerProducer), counters);
        }
    }

    [Fact]
    public void Messages_drained_into_a_closed_session_are_discarded()
    {
        Enqueue("late"u8, Delivery.Reliable, SendOptions.None);
        _sender.Close(DisconnectReason.Disconnect, notifyPeer: false);
        _queue.DrainInto(_sender, 0, long.MaxValue); // no throw: the session ended while they waited
        Assert.True(Enqueue("next"u8, Delivery.Reliable, SendOptions.None));
    }
}
