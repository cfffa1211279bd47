using Paperclip.Protocol;
using Paperclip.Protocol.Crypto;
using Paperclip.Transport.Internal;
using Paperclip.Transport.Internal.Connection;

namespace Paperclip.Transport.Tests.Connection;

public sealed class ReceivePipelineTests : IDisposable
{
    private readonly TransportSettings _settings = CoreKit.Settings(configure: o => o.EncryptionPolicy = EncryptionPolicy.Optional);
    private readonly ConnectionStatistics _statistics = new();
    private readonly ReceivePipeline _pipeline;
    private readonly Handler _handler = new();
    private readonly RecordingSink _wire = new();
    private readonly TestCore _sender;
    private readonly SessionKeys _keys = CoreKit.Keys();

    public ReceivePipelineTests()
    {
        _pipeline = new ReceivePipeline(_settings, _statistics, budget: null, heldBudget: null);
        _pipeline.Activate(_keys.CreateReceiver(isClient: false), ProtocolConstants.Version2);
        // Genuine datagrams come from a real core with the client's keys.
        _sender = new TestCore(_settings, _wire, 0);
        _sender.Activate(_keys, isClient: true, ProtocolConstants.Version2, 0);
    }

    public void Dispose()
    {
        _pipeline.Dispose();
        _sender.Close(DisconnectReason.Disconnect, notifyPeer: false);
        _keys.Dispose();
    }

    private List<byte[]> Send(ReadOnlySpan<byte> data, Delivery delivery, SendOptions options = SendOptions.None)
    {
        _wire.Datagrams.Clear();
        _sender.SendMessage(data, delivery, options);
        _sender.Flush(0, 0);
        return [.. _wire.Datagrams];
    }

    private bool Receive(byte[] datagram, long now = 0)
    {
        var copy = datagram.ToArray(); // opening works in place
        return _pipeline.Receive(copy, CoreKit.Header(copy), now, _handler);
    }

    [Fact]
    public void Sealed_message_is_opened_delivered_and_its_ACK_owed()
    {
        var datagram = Assert.Single(Send("hello"u8, Delivery.Reliable));
        Assert.True(Receive(datagram));
        var (data, flags) = Assert.Single(_handler.Messages);
        Assert.Equal("hello"u8.ToArray(), data);
        Assert.Equal(PacketFlags.Reliable | PacketFlags.Encrypted, flags);
        Assert.True(_handler.Acks.IsPending);
    }

    [Fact]
    public void Replayed_datagram_is_dropped_as_a_replay()
    {
        var datagram = Assert.Single(Send("once"u8, Delivery.Unreliable));
        Assert.True(Receive(datagram));
        Assert.False(Receive(datagram));
        Assert.Single(_handler.Messages);
        Assert.Equal(1, _statistics.Dropped(DropReason.Replay));
    }

    [Fact]
    public void Datagram_with_a_bad_tag_is_dropped_and_does_not_move_the_replay_window()
    {
        var datagram = Assert.Single(Send("genuine"u8, Delivery.Unreliable));
        var forged = datagram.ToArray();
        forged[^1] ^= 1;
        Assert.False(Receive(forged));
        Assert.Equal(1, _statistics.Dropped(DropReason.Authentication));
        Assert.Empty(_handler.Messages);
        Assert.True(Receive(datagram)); // its packet number was not marked seen
        Assert.Single(_handler.Messages);
    }

    [Fact]
    public void Sealed_datagram_before_the_keys_is_not_admitted()
    {
        using var pipeline = new ReceivePipeline(_settings, _statistics, budget: null, heldBudget: null);
        var datagram = Assert.Single(Send("early"u8, Delivery.Unreliable));
        Assert.False(pipeline.Receive(datagram, CoreKit.Header(datagram), 0, _handler));
        Assert.Equal(1, _statistics.Dropped(DropReason.NotAdmitted));
    }

    [Fact]
    public void Plaintext_after_the_keys_is_not_admitted_under_the_required_policy()
    {
        using var pipeline = new ReceivePipeline(CoreKit.Settings(), _statistics, budget: null, heldBudget: null);
        var datagram = Assert.Single(Send("plain"u8, Delivery.Unreliable, SendOptions.Plaintext));
        Assert.False(pipeline.Receive(datagram, CoreKit.Header(datagram), 0, _handler));
        Assert.Equal(1, _statistics.Dropped(DropReason.NotAdmitted));
        Assert.Empty(_handler.Messages);
    }

    [Fact]
    public void Malformed_packet_inside_a_BATCH_is_reported_and_the_rest_of_the_batch_delivered()
    {
        // A sealed BATCH of: DEFAULT "a", an ACK cut short (no ACK fields), DEFAULT "b".
        var data = new List<byte>();
        void Entry(byte[] packet)
        {
            data.Add((byte)(packet.Length >> 8));
            data.Add((byte)packet.Length);
            data.AddRange(packet);
        }
        Entry(Packet(PacketHeader.Create(PacketType.Default, PacketFlags.None, 1), "a"u8));
        Entry([PacketHeader.Create(PacketType.Ack, PacketFlags.None, 2).TypeAndFlags, 0, 2]);
        Entry(Packet(PacketHeader.Create(PacketType.Default, PacketFlags.None, 3), "b"u8));
        var header = PacketHeader.Create(PacketType.Batch, PacketFlags.Encrypted, 0);
        header.PacketNumber = 77;
        var datagram = new byte[PacketWriter.HeaderLength(PacketType.Batch, PacketFlags.Encrypted) + data.Count + ProtocolConstants.TagSize];
        var headerLength = PacketWriter.WriteHeader(datagram, header);
        data.ToArray().CopyTo(datagram, headerLength);
        using (var sender = _keys.CreateSender(isClient: true))
            sender.Seal(datagram, headerLength, data.Count, 77);

        Assert.True(Receive(datagram));
        Assert.Equal(["a"u8.ToArray(), "b"u8.ToArray()], _handler.Messages.Select(m => m.Data));
        Assert.Equal([PacketError.Ack], _handler.PacketErrors);
        Assert.Equal(1, _statistics.Dropped(DropReason.Malformed));
    }

    [Fact]
    public void Duplicate_fragments_of_a_delivered_RELIABLE_message_are_acknowledged_again_not_reassembled()
    {
        var message = new byte[3000];
        new Random(1).NextBytes(message);
        var first = Send(message, Delivery.Reliable);
        Assert.Equal(3, first.Count);
        first.ForEach(d => Receive(d));
        Assert.Equal(message, Assert.Single(_handler.Messages).Data);
        _handler.Acks.TryTake(out _, out _);

        // Our ACK was lost: the sender resends the whole message, under new packet numbers.
        _wire.Datagrams.Clear();
        _sender.OnTimer(_sender.Deadline);
        _sender.Flush(_sender.Deadline, 0);
        Assert.Equal(3, _wire.Datagrams.Count);
        _handler.Acknowledged.Clear();
        foreach (var datagram in _wire.Datagrams)
            Assert.True(Receive(datagram));

        Assert.Single(_handler.Messages);
        Assert.Equal(3, _handler.Acknowledged.Count); // one ACK owed per fragment
        Assert.True(_handler.Acks.IsPending);
        Assert.Equal(3, _statistics.Dropped(DropReason.Duplicate));
        Assert.Equal(0, _pipeline.Reassembly.PartialCount);
        Assert.Equal(long.MaxValue, _pipeline.Deadline);
    }

    [Fact]
    public void Duplicate_unfragmented_RELIABLE_message_is_acknowledged_again_not_delivered()
    {
        Receive(Assert.Single(Send("one"u8, Delivery.Reliable)));
        _handler.Acks.TryTake(out _, out _);
        _wire.Datagrams.Clear();
        _sender.OnTimer(_sender.Deadline);
        _sender.Flush(_sender.Deadline, 0);
        Receive(Assert.Single(_wire.Datagrams));
        Assert.Single(_handler.Messages);
        Assert.True(_handler.Acks.IsPending);
        Assert.Equal(1, _statistics.Dropped(DropReason.Duplicate));
    }

    [Fact]
    public void Partial_message_expires_after_the_reassembly_timeout_checked_at_the_deadline()
    {
        var fragments = Send(new byte[3000], Delivery.Reliable);
        Receive(fragments[0], now: 5_000);
        Receive(fragments[2], now: 5_000);
        Assert.Equal(1, _pipeline.Reassembly.PartialCount);

        var now = 5_000L;
        while (_pipeline.Deadline <= 14_000)
        {
            now = _pipeline.Deadline;
            _pipeline.Expire(now);
            Assert.Equal(1, _pipeline.Reassembly.PartialCount);
        }
        Assert.Equal(15_000, _pipeline.Deadline); // 10 s of silence since its last fragment
        _pipeline.Expire(15_000);
        Assert.Equal(0, _pipeline.Reassembly.PartialCount);
        Assert.Equal(long.MaxValue, _pipeline.Deadline);
        Assert.Empty(_handler.Messages);
        Assert.True(now >= 14_000);
    }

    [Fact]
    public void Fragments_reassemble_in_any_order_and_inflate_and_check_out()
    {
        var message = new byte[40_000];
        for (var i = 0; i < message.Length; i++)
            message[i] = (byte)(i * 31 % 251);
        var fragments = Send(message, Delivery.Reliable, SendOptions.Checksum | SendOptions.Compress);
        fragments.Reverse();
        fragments.ForEach(d => Receive(d));
        Assert.Equal(message, Assert.Single(_handler.Messages).Data);
    }

    [Fact]
    public void Corrupted_checksummed_message_is_dropped_reported_and_not_acknowledged()
    {
        var datagram = Assert.Single(Send("checked"u8, Delivery.Reliable, SendOptions.Checksum | SendOptions.Plaintext));
        datagram[^1] ^= 0xFF;
        Assert.True(Receive(datagram));
        Assert.Empty(_handler.Messages);
        Assert.Equal([PacketError.Checksum], _handler.PacketErrors);
        Assert.Single(_handler.ChecksumMismatches);
        Assert.False(_handler.Acks.IsPending); // so the sender resends it
    }

    [Fact]
    public void ACK_and_PING_reach_the_handler()
    {
        var ack = PacketHeader.Create(PacketType.Ack, PacketFlags.None, 5);
        ack.AckId = 1234;
        ack.AckBits = 0x00F0;
        Assert.True(Receive(Packet(ack, default)));
        Assert.True(Receive(Packet(PacketHeader.Create(PacketType.Heartbeat, PacketFlags.None, 6), default)));
        Assert.Equal([(1234, 0x00F0)], _handler.AcksReceived.Select(a => ((int)a.Item1, (int)a.Item2)));
        Assert.Equal(1, _handler.Pings);
    }

    private static byte[] Packet(PacketHeader header, ReadOnlySpan<byte> data)
    {
        var packet = new byte[PacketWriter.HeaderLength(header.Type, header.Flags) + data.Length];
        var length = PacketWriter.WriteHeader(packet, header);
        data.CopyTo(packet.AsSpan(length));
        return packet;
    }

    /// <summary>Records what the pipeline hands on; exactly-once is the real <see cref="AckState"/>.</summary>
    private sealed class Handler : IReceiveHandler
    {
        public AckState Acks { get; } = new();

        public List<(byte[] Data, PacketFlags Flags)> Messages { get; } = [];

        public List<ushort> Acknowledged { get; } = [];

        public List<(ushort, ushort)> AcksReceived { get; } = [];

        public List<PacketError> PacketErrors { get; } = [];

        public List<ushort> ChecksumMismatches { get; } = [];

        public int Pings { get; private set; }

        public bool IsClosed => false;

        public bool IsEncrypted => true;

        public bool OnPlaintextHandshake(ReadOnlySpan<byte> datagram, in PacketHeader header) => false;

        public bool WasReceived(ushort sequence) => Acks.Contains(sequence);

        public bool Acknowledge(ushort sequence)
        {
            Acknowledged.Add(sequence);
            return Acks.Record(sequence, out _);
        }

        public void OnMessage(ReadOnlySpan<byte> data, in MessageInfo info) => Messages.Add((data.ToArray(), info.Flags));

        public void OnAck(ushort ackId, ushort ackBits) => AcksReceived.Add((ackId, ackBits));

        public void OnPing() => Pings++;

        public void OnErrorPacket(ErrorCode code, ReadOnlySpan<byte> text)
        {
        }

        public void ReportPacketError(PacketError error) => PacketErrors.Add(error);

        public void OnChecksumMismatch(ushort sequence) => ChecksumMismatches.Add(sequence);
    }
}
