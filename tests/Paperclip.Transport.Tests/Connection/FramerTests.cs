using Paperclip.Protocol;
using Paperclip.Protocol.Crypto;
using Paperclip.Transport.Internal.Connection;

namespace Paperclip.Transport.Tests.Connection;

public sealed class FramerTests : IDisposable
{
    private readonly Framer _framer = new(ProtocolConstants.MaxDatagramSize);
    private readonly OutgoingPackets _queue = new();
    private readonly RecordingSink _sink = new();
    private readonly ConnectionStatistics _statistics = new();
    private readonly PacketProtection _peer;

    public FramerTests()
    {
        using var keys = CoreKit.Keys();
        _framer.Activate(keys.CreateSender(isClient: true));
        _peer = keys.CreateReceiver(isClient: false);
    }

    public void Dispose()
    {
        _framer.Dispose();
        _queue.Dispose();
        _peer.Dispose();
    }

    private static PacketHeader Message(ushort sequence) => PacketHeader.Create(PacketType.Default, PacketFlags.None, sequence);

    private List<(PacketHeader Header, byte[] Data)> Flush()
    {
        Assert.True(_framer.Flush(_queue, _sink, CoreKit.Remote, _statistics));
        _queue.Clear();
        return _sink.Datagrams.SelectMany(d => CoreKit.Packets(d, _peer)).ToList();
    }

    [Fact]
    public void Packet_alone_travels_as_itself_sealed_with_the_next_packet_number()
    {
        _queue.Add(Message(9), "hello"u8, Framing.Sealed);
        var packets = Flush();

        var datagram = Assert.Single(_sink.Datagrams);
        var outer = CoreKit.Header(datagram);
        Assert.Equal(PacketType.Default, outer.Type);
        Assert.Equal(PacketFlags.Encrypted, outer.Flags);
        Assert.Equal(0UL, outer.PacketNumber);
        Assert.Equal(outer.Length + 5 + ProtocolConstants.TagSize, datagram.Length);
        var (header, data) = Assert.Single(packets);
        Assert.Equal(9, header.Sequence);
        Assert.Equal("hello"u8.ToArray(), data);
        Assert.Equal(1, _statistics.DatagramsSent);
        Assert.Equal(datagram.Length, _statistics.BytesSent);
    }

    [Fact]
    public void Many_small_packets_share_one_sealed_BATCH_with_their_fields_intact()
    {
        var ack = PacketHeader.Create(PacketType.Ack, PacketFlags.None, 1);
        ack.AckId = 700;
        ack.AckBits = 0x8001;
        var fragment = PacketHeader.Create(PacketType.Default, PacketFlags.Reliable | PacketFlags.Frag | PacketFlags.Checksum, 2);
        fragment.FragmentId = 3;
        fragment.FragmentCount = 5;
        fragment.Checksum = 0xDEADBEEF;
        var pong = PacketHeader.Create(PacketType.Heartbeat, PacketFlags.None, 3);
        pong.Beat = HeartbeatKind.Pong;
        _queue.Add(ack, default, Framing.Sealed);
        _queue.Add(fragment, "piece"u8, Framing.Sealed);
        _queue.Add(pong, default, Framing.Sealed);
        _queue.Add(Message(4), "tail"u8, Framing.Sealed);
        var packets = Flush();

        var datagram = Assert.Single(_sink.Datagrams);
        Assert.Equal(PacketType.Batch, CoreKit.Header(datagram).Type);
        Assert.Equal([1, 2, 3, 4], packets.Select(p => (int)p.Header.Sequence));
        Assert.Equal((700, 0x8001), (packets[0].Header.AckId, packets[0].Header.AckBits));
        var frag = packets[1].Header;
        Assert.Equal(PacketFlags.Reliable | PacketFlags.Frag | PacketFlags.Checksum, frag.Flags); // no ENCRYPTED inside a BATCH
        Assert.Equal((3, 5, 0xDEADBEEFu), (frag.FragmentId, frag.FragmentCount, frag.Checksum));
        Assert.Equal("piece"u8.ToArray(), packets[1].Data);
        Assert.Equal(HeartbeatKind.Pong, packets[2].Header.Beat);
        Assert.Equal("tail"u8.ToArray(), packets[3].Data);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Batches_never_exceed_the_datagram_size_and_keep_every_packet_in_order(int seed)
    {
        var random = new Random(seed);
        var sent = new List<byte[]>();
        for (var i = 0; i < 400; i++)
        {
            // Up to a whole datagram's worth: some must travel alone, most share.
            var data = new byte[random.Next(2) == 0 ? random.Next(0, 60) : random.Next(0, 1173)];
            random.NextBytes(data);
            sent.Add(data);
            _queue.Add(Message((ushort)i), data, Framing.Sealed);
        }
        var packets = Flush();

        Assert.All(_sink.Datagrams, d => Assert.InRange(d.Length, 1, ProtocolConstants.MaxDatagramSize));
        Assert.Equal(400, packets.Count);
        // Compared one by one: xunit's deep comparison of 400 arrays takes most of a second.
        for (var i = 0; i < packets.Count; i++)
        {
            Assert.Equal(i, packets[i].Header.Sequence);
            Assert.True(sent[i].AsSpan().SequenceEqual(packets[i].Data), $"packet {i} intact");
        }
        Assert.True(_sink.Datagrams.Count < 400, "small packets were batched");
    }

    [Fact]
    public void Full_sized_packet_that_would_overflow_a_BATCH_travels_alone()
    {
        _queue.Add(Message(1), new byte[1173], Framing.Sealed); // exactly one sealed datagram
        _queue.Add(Message(2), new byte[1], Framing.Sealed);
        Flush();
        Assert.Equal(2, _sink.Datagrams.Count);
        Assert.Equal(ProtocolConstants.MaxDatagramSize, _sink.Datagrams[0].Length);
        Assert.Equal(PacketType.Default, CoreKit.Header(_sink.Datagrams[0]).Type);
    }

    [Fact]
    public void Sealed_and_plain_packets_never_share_a_datagram()
    {
        var framings = new[] { Framing.Sealed, Framing.Sealed, Framing.Plain, Framing.Plain, Framing.Sealed, Framing.Plain };
        for (var i = 0; i < framings.Length; i++)
            _queue.Add(Message((ushort)i), [(byte)i], framings[i]);
        var packets = Flush();

        Assert.Equal(4, _sink.Datagrams.Count);
        var sealedness = _sink.Datagrams.Select(d => (CoreKit.Header(d).Flags & PacketFlags.Encrypted) != 0).ToArray();
        Assert.Equal([true, false, true, false], sealedness);
        Assert.Equal(Enumerable.Range(0, 6), packets.Select(p => (int)p.Header.Sequence));
        Assert.All(packets, p => Assert.Equal(PacketFlags.None, p.Header.Flags & ~PacketFlags.Encrypted));
    }

    [Fact]
    public void Packets_that_travel_alone_are_never_batched()
    {
        _queue.Add(Message(1), "a"u8, Framing.Plain | Framing.Alone);
        _queue.Add(Message(2), "b"u8, Framing.Plain | Framing.Alone);
        _queue.Add(Message(3), "c"u8, Framing.Plain);
        _queue.Add(Message(4), "d"u8, Framing.Plain | Framing.Alone);
        var packets = Flush();

        Assert.Equal(4, _sink.Datagrams.Count);
        Assert.All(_sink.Datagrams, d => Assert.Equal(PacketType.Default, CoreKit.Header(d).Type));
        Assert.Equal([1, 2, 3, 4], packets.Select(p => (int)p.Header.Sequence));
    }

    [Fact]
    public void Packet_numbers_increase_by_one_per_sealed_datagram()
    {
        for (var round = 0; round < 3; round++)
        {
            _queue.Add(Message(1), new byte[1000], Framing.Sealed);
            _queue.Add(Message(2), new byte[1000], Framing.Sealed);
            _queue.Add(Message(3), "plain"u8, Framing.Plain);
            Flush();
        }
        var numbers = _sink.Datagrams.Select(CoreKit.Header).Where(h => (h.Flags & PacketFlags.Encrypted) != 0).Select(h => h.PacketNumber);
        Assert.Equal([0UL, 1, 2, 3, 4, 5], numbers);
        Assert.Equal(6UL, _framer.NextPacketNumber);
    }

    [Fact]
    public void Flush_refuses_once_the_keys_packet_numbers_would_be_spent()
    {
        // Leave room for exactly one datagram and the three DISCONNECTs.
        var nextPacketNumber = typeof(Framer).GetProperty(nameof(Framer.NextPacketNumber))!;
        nextPacketNumber.SetValue(_framer, ProtocolConstants.PacketNumberLimit - 5);
        _queue.Add(Message(1), "last"u8, Framing.Sealed);
        Assert.True(_framer.Flush(_queue, _sink, CoreKit.Remote, _statistics));
        _queue.Clear();
        Assert.Equal(ProtocolConstants.PacketNumberLimit - 4, _framer.NextPacketNumber);

        _queue.Add(Message(2), "one too many"u8, Framing.Sealed);
        Assert.False(_framer.Flush(_queue, _sink, CoreKit.Remote, _statistics));
        Assert.Single(_sink.Datagrams);

        // The DISCONNECTs still fit below the limit.
        var disconnect = new byte[Framer.DisconnectSize];
        for (var i = 0; i < Framer.DisconnectRepeats; i++)
            _framer.WriteDisconnect(disconnect, DisconnectReason.Disconnect, 9);
        Assert.True(_framer.NextPacketNumber < ProtocolConstants.PacketNumberLimit);
    }

    [Fact]
    public void Disconnect_is_sealed_with_its_own_packet_number_and_opens_as_an_ERROR()
    {
        _queue.Add(Message(1), "x"u8, Framing.Sealed);
        Flush();
        var datagram = new byte[Framer.DisconnectSize];
        var length = _framer.WriteDisconnect(datagram, DisconnectReason.Timeout, 42);
        var (header, _) = Assert.Single(CoreKit.Packets(datagram[..length], _peer));
        Assert.Equal(PacketType.Error, header.Type);
        Assert.Equal(ErrorCode.Of(DisconnectReason.Timeout), header.Error);
        Assert.Equal(1UL, CoreKit.Header(datagram[..length]).PacketNumber);
        Assert.Equal(42, header.Sequence);
    }
}
