using System.Text.Json;

namespace Paperclip.Protocol.Tests.Packets;

/// <summary>The codec, invalid, batch and CRC vectors of the independent implementation.</summary>
public sealed class CodecVectorTests
{
    public static TheoryData<int> Codec => Vectors.Indexes("codec");
    public static TheoryData<int> Invalid => Vectors.Indexes("invalid");
    public static TheoryData<int> BatchInvalid => Vectors.Indexes("batch_invalid");
    public static TheoryData<int> Crc => Vectors.Indexes("crc32");

    [Theory]
    [MemberData(nameof(Codec))]
    public void Codec_vector_parses_to_the_expected_fields(int index)
    {
        var vector = Vectors.Entry("codec", index);
        var datagram = vector.Hex("hex");
        var expect = vector.GetProperty("expect");

        Assert.True(PacketReader.TryRead(datagram, out var header, out var error), $"{vector.Text("name")}: {error}");
        Assert.Equal(Enum.Parse<PacketType>(expect.Text("type"), ignoreCase: true), header.Type);
        Assert.Equal(ExpectedFlags(expect), header.Flags);
        Assert.Equal(expect.GetProperty("seq").GetUInt16(), header.Sequence);
        if (expect.TryGetProperty("checksum", out var crc))
            Assert.Equal(crc.GetUInt32(), header.Checksum);
        if (expect.TryGetProperty("ack_id", out var ackId))
        {
            Assert.Equal(ackId.GetUInt16(), header.AckId);
            Assert.Equal(expect.GetProperty("ack_bits").GetUInt16(), header.AckBits);
        }
        if (expect.TryGetProperty("heartbeat", out var beat))
            Assert.Equal(Enum.Parse<HeartbeatKind>(beat.GetString()!, ignoreCase: true), header.Beat);
        if (expect.TryGetProperty("major", out var major))
            Assert.Equal(ErrorCode.FromWire(major.GetByte(), expect.GetProperty("minor").GetByte()), header.Error);
        if (expect.TryGetProperty("fragment_id", out var fragmentId))
        {
            Assert.Equal(fragmentId.GetByte(), header.FragmentId);
            Assert.Equal(expect.GetProperty("fragment_count").GetByte(), header.FragmentCount);
        }

        var data = datagram.AsSpan(header.Length);
        if (expect.TryGetProperty("data_hex", out _))
            Assert.Equal(expect.Hex("data_hex"), data.ToArray());
        if (expect.TryGetProperty("inflated_hex", out _))
        {
            var inflated = new byte[ProtocolConstants.MaxMessageSize];
            Assert.True(Deflate.TryInflate(data, inflated, out var written));
            var original = inflated.AsSpan(0, written).ToArray();
            Assert.Equal(expect.Hex("inflated_hex"), original);
            Assert.Equal(header.Checksum, Checksum.Compute(original));
        }
        if (expect.TryGetProperty("inner_hex", out var inner))
        {
            var reader = new BatchReader(data);
            foreach (var expected in inner.EnumerateArray())
            {
                Assert.True(reader.TryReadNext(out var packet));
                Assert.Equal(Convert.FromHexString(expected.GetString()!), packet.ToArray());
                Assert.True(PacketReader.TryRead(packet, out _, out _));
            }
            Assert.False(reader.TryReadNext(out _));
            Assert.False(reader.IsMalformed);
        }
    }

    [Theory]
    [MemberData(nameof(Codec))]
    public void Codec_vector_is_written_back_byte_for_byte(int index)
    {
        var datagram = Vectors.Entry("codec", index).Hex("hex");
        Assert.True(PacketReader.TryRead(datagram, out var header, out _));

        var written = new byte[datagram.Length];
        var length = PacketWriter.WriteHeader(written, header);
        Assert.Equal(header.Length, length);
        Assert.Equal(length, PacketWriter.HeaderLength(header.Type, header.Flags));
        datagram.AsSpan(length).CopyTo(written.AsSpan(length));
        Assert.Equal(datagram, written);
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Invalid_vector_gives_its_minor(int index)
    {
        var vector = Vectors.Entry("invalid", index);
        Assert.False(PacketReader.TryRead(vector.Hex("hex"), out _, out var error));
        Assert.Equal(ParseMinor(vector.Text("minor")), error);
    }

    [Theory]
    [MemberData(nameof(BatchInvalid))]
    public void Invalid_batch_is_malformed_and_keeps_the_entries_before_the_fault(int index)
    {
        var vector = Vectors.Entry("batch_invalid", index);
        Assert.Equal(PacketError.Batch, ParseMinor(vector.Text("minor")));
        var reader = new BatchReader(vector.Hex("data_hex"));
        var entries = 0;
        while (reader.TryReadNext(out _))
            entries++;
        Assert.True(reader.IsMalformed, vector.Text("note"));
        // Only the last vector has a valid entry before the fault.
        Assert.Equal(vector.Text("note").StartsWith("one valid entry", StringComparison.Ordinal) ? 1 : 0, entries);
    }

    [Theory]
    [MemberData(nameof(Crc))]
    public void Crc32_matches(int index)
    {
        var vector = Vectors.Entry("crc32", index);
        Assert.Equal(vector.GetProperty("crc").GetUInt32(), Checksum.Compute(vector.Hex("data_hex")));
    }

    private static PacketFlags ExpectedFlags(JsonElement expect)
    {
        var flags = PacketFlags.None;
        foreach (var name in expect.GetProperty("flags").EnumerateArray())
            flags |= Enum.Parse<PacketFlags>(name.GetString()!, ignoreCase: true);
        return flags;
    }

    private static PacketError ParseMinor(string name) => Enum.Parse<PacketError>(name.Replace("_", "", StringComparison.Ordinal), ignoreCase: true);
}
