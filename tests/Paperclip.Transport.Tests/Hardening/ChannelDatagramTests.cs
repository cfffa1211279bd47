using Paperclip.Protocol;
using Paperclip.Protocol.Tests;

namespace Paperclip.Transport.Tests.Hardening;

/// <summary>
/// Malformed and misplaced CHANNEL datagrams from a connected peer at a live server (protocol
/// §2.2, §3.3): the vectors' invalid CHANNEL datagrams and sealed ones that break the rules get
/// their PACKET error and change nothing; a CHANNEL packet to a version-1 session is
/// PACKET_TYPE; a plaintext one is dropped even under the optional policy.
/// </summary>
public sealed class ChannelDatagramTests
{
    public static TheoryData<int> InvalidVectors()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < Vectors.Root.GetProperty("version2").GetProperty("invalid").GetArrayLength(); i++)
            data.Add(i);
        return data;
    }

    private static (ServerHarness Server, RawClient Raw, PaperclipConnection Connection) Connect(byte version, Action<PaperclipServerOptions>? configure = null)
    {
        var server = ServerHarness.Start(configure);
        var raw = new RawClient(server.EndPoint, TestPki.Account(1, server.Validator)) { Version = version };
        Assert.True(raw.Handshake(), "handshake");
        var connection = server.Joined.Next();
        Assert.Equal(version, connection.ProtocolVersion);
        return (server, raw, connection);
    }

    /// <summary>A CHANNEL packet, unsealed (alone in plaintext, or to go inside a BATCH).</summary>
    private static byte[] ChannelPacket(ushort sequence, ushort channelSequence, ReadOnlySpan<byte> data, PacketFlags flags = PacketFlags.Reliable, byte channel = 1)
    {
        var header = ChannelHeader(sequence, channelSequence, flags, channel);
        var packet = new byte[PacketWriter.HeaderLength(PacketType.Channel, flags) + data.Length];
        data.CopyTo(packet.AsSpan(PacketWriter.WriteHeader(packet, header)));
        return packet;
    }

    private static PacketHeader ChannelHeader(ushort sequence, ushort channelSequence, PacketFlags flags = PacketFlags.Reliable, byte channel = 1)
    {
        var header = PacketHeader.Create(PacketType.Channel, flags, sequence);
        header.Channel = channel;
        header.ChannelSequence = channelSequence;
        return header;
    }

    /// <summary>The next PACKET error the server sends (alone or in a BATCH), opened with the session's keys; null when none comes within the wait.</summary>
    private static PacketError? NextPacketError(RawClient raw)
    {
        var deadline = DateTime.UtcNow + Wait.Timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (raw.Receive(TimeSpan.FromMilliseconds(200)) is not { } datagram || raw.Open(datagram) is not { } opened)
                continue;
            var packets = new List<PacketHeader> { opened.Header };
            if (opened.Header.Type == PacketType.Batch)
            {
                var batch = new BatchReader(opened.Data);
                while (batch.TryReadNext(out var inner))
                {
                    if (PacketReader.TryRead(inner, out var innerHeader, out _))
                        packets.Add(innerHeader);
                }
            }
            if (packets.FirstOrDefault(p => p.Type == PacketType.Error && p.Error.Major == ErrorMajor.Packet) is { Type: PacketType.Error } error)
                return error.Error.Packet;
        }
        return null;
    }

    /// <summary>Nothing changed: the session goes on and channel 1's stream still expects CSEQ 0.</summary>
    private static void AssertStreamUnchanged(ServerHarness server, RawClient raw, PaperclipConnection connection)
    {
        Assert.Empty(server.Received);
        raw.Send(raw.Seal(ChannelHeader(raw.NextSequence++, 0), "next"u8));
        var (_, data, _, info) = server.Received.Next();
        Assert.Equal("next"u8.ToArray(), data);
        Assert.Equal(new MessageInfo(Delivery.ReliableOrdered, 1, PacketFlags.Reliable | PacketFlags.Encrypted), info);
        Assert.True(connection.IsConnected);
        Assert.Equal(0, connection.Session.ReceivePipeline.Streams.HeldCount);
    }

    [Theory]
    [MemberData(nameof(InvalidVectors))]
    public async Task Invalid_CHANNEL_vector_gets_its_PACKET_error_and_changes_nothing(int index)
    {
        var vector = Vectors.Root.GetProperty("version2").GetProperty("invalid")[index];
        var (server, raw, connection) = Connect(ProtocolConstants.Version2);
        await using var _ = server;
        using var __ = raw;
        raw.Send(vector.Hex("hex"));
        Assert.Equal(Enum.Parse<PacketError>(vector.Text("minor"), ignoreCase: true), NextPacketError(raw));
        AssertStreamUnchanged(server, raw, connection);
    }

    public static TheoryData<string> SealedInvalid() => ["4096 ahead of the stream", "32767 ahead of the stream", "reserved LANE bit", "inner CHANNEL without LANE and CSEQ in a BATCH"];

    [Theory]
    [MemberData(nameof(SealedInvalid))]
    public async Task Sealed_CHANNEL_datagram_that_breaks_the_rules_gets_PACKET_CHANNEL_and_changes_nothing(string kind)
    {
        var (server, raw, connection) = Connect(ProtocolConstants.Version2);
        await using var _ = server;
        using var __ = raw;
        var datagram = kind switch
        {
            "4096 ahead of the stream" => raw.Seal(ChannelHeader(raw.NextSequence++, 4096), "far"u8),
            "32767 ahead of the stream" => raw.Seal(ChannelHeader(raw.NextSequence++, 32_767), "far"u8),
            "reserved LANE bit" => WithReservedLaneBit(raw.Seal(ChannelHeader(raw.NextSequence++, 0), "bit"u8)),
            _ => raw.Seal(PacketHeader.Create(PacketType.Batch, PacketFlags.None, 0), Batch([0xC1, 0x00, 0x09])),
        };
        raw.Send(datagram);
        Assert.Equal(PacketError.Channel, NextPacketError(raw));
        AssertStreamUnchanged(server, raw, connection);
        Assert.Equal(0, connection.Statistics.Dropped(DropReason.Authentication));
    }

    // LANE is the third byte from the end of the header; the writer refuses to set bit 6, so set it after.
    private static byte[] WithReservedLaneBit(byte[] datagram)
    {
        datagram[PacketWriter.HeaderLength(PacketType.Channel, PacketFlags.Reliable | PacketFlags.Encrypted) - 3] |= 0x40;
        return datagram;
    }

    private static byte[] Batch(params byte[][] packets)
    {
        var data = new List<byte>();
        foreach (var packet in packets)
        {
            data.Add((byte)(packet.Length >> 8));
            data.Add((byte)packet.Length);
            data.AddRange(packet);
        }
        return [.. data];
    }

    [Fact]
    public async Task A_sealed_BATCH_delivers_its_good_CHANNEL_packets_around_a_malformed_one()
    {
        var (server, raw, connection) = Connect(ProtocolConstants.Version2);
        await using var _ = server;
        using var __ = raw;
        var first = ChannelPacket(raw.NextSequence++, 0, "a"u8);
        var second = ChannelPacket(raw.NextSequence++, 1, "b"u8);
        raw.Send(raw.Seal(PacketHeader.Create(PacketType.Batch, PacketFlags.None, 0), Batch(first, [0xC1, 0x00, 0x09], second)));
        Assert.Equal(PacketError.Channel, NextPacketError(raw));
        Assert.Equal("a"u8.ToArray(), server.Received.Next().Data);
        Assert.Equal("b"u8.ToArray(), server.Received.Next().Data);
        Assert.True(connection.IsConnected);
    }

    [Fact]
    public async Task CHANNEL_packet_to_a_version_1_session_is_PACKET_TYPE_and_changes_nothing()
    {
        var (server, raw, connection) = Connect(ProtocolConstants.Version1);
        await using var _ = server;
        using var __ = raw;
        raw.Send(raw.Seal(ChannelHeader(raw.NextSequence++, 0), "channel"u8));
        Assert.Equal(PacketError.PacketType, NextPacketError(raw));
        raw.Send(raw.SealMessage("default"u8, PacketFlags.Reliable));
        var (_, data, _, info) = server.Received.Next();
        Assert.Equal("default"u8.ToArray(), data); // the CHANNEL message was not delivered, the session goes on
        Assert.Equal(Delivery.Reliable, info.Delivery);
        Assert.True(connection.IsConnected);
    }

    [Fact]
    public async Task Plaintext_CHANNEL_packet_is_dropped_even_under_the_optional_policy()
    {
        var (server, raw, connection) = Connect(ProtocolConstants.Version2, o => o.EncryptionPolicy = EncryptionPolicy.Optional);
        await using var _ = server;
        using var __ = raw;
        raw.Send(ChannelPacket(raw.NextSequence++, 0, "plain channel"u8));
        // Plaintext DEFAULT is admitted under this policy: once it is delivered, the CHANNEL one was handled before it.
        var header = PacketHeader.Create(PacketType.Default, PacketFlags.Reliable, raw.NextSequence++);
        var plain = new byte[PacketWriter.HeaderLength(PacketType.Default, PacketFlags.Reliable) + 13];
        "plain default"u8.CopyTo(plain.AsSpan(PacketWriter.WriteHeader(plain, header)));
        raw.Send(plain);
        var (_, data, flags, _) = server.Received.Next();
        Assert.Equal("plain default"u8.ToArray(), data);
        Assert.False(flags.HasFlag(PacketFlags.Encrypted));
        Assert.Empty(server.Received);
        Assert.Equal(1, connection.Statistics.Dropped(DropReason.NotAdmitted));
        Assert.Equal(0, connection.Session.ReceivePipeline.Streams.HeldCount);
        AssertStreamUnchanged(server, raw, connection);
    }
}
