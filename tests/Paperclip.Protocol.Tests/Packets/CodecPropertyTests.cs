using CsCheck;

namespace Paperclip.Protocol.Tests.Packets;

/// <summary>Properties over random packets and random bytes.</summary>
public sealed class CodecPropertyTests
{
    private static readonly Gen<PacketHeader> GenHeader =
        from type in Gen.OneOfConst(PacketType.Default, PacketType.Ack, PacketType.Heartbeat, PacketType.Error, PacketType.Batch)
        from rawFlags in Gen.Byte[0, 31]
        from sequence in Gen.UShort
        from fragmentCount in Gen.Byte[1, 255]
        from fragmentId in Gen.Byte[0, 254]
        from pn in Gen.ULong
        from crc in Gen.UInt
        from ackId in Gen.UShort
        from ackBits in Gen.UShort
        from beat in Gen.Byte[0, 1]
        from major in Gen.Byte[0, 3]
        from minor in Gen.Byte[0, 5]
        select Build(type, (PacketFlags)rawFlags & PacketRules.AllowedFlags(type), sequence, fragmentCount,
            (byte)(fragmentId % fragmentCount), pn, crc, ackId, ackBits, (HeartbeatKind)beat, ErrorCode.FromWire(major, minor));

    [Fact]
    public void Written_header_reads_back_identically()
    {
        Gen.Select(GenHeader, Gen.Byte.Array[0, 64]).Sample((header, data) =>
        {
            var tagRoom = header.Has(PacketFlags.Encrypted) ? ProtocolConstants.TagSize : 0;
            var datagram = new byte[PacketWriter.HeaderLength(header.Type, header.Flags) + data.Length + tagRoom];
            var length = PacketWriter.WriteHeader(datagram, header);
            data.CopyTo(datagram, length);

            Assert.True(PacketReader.TryRead(datagram, out var read, out var error), error.ToString());
            header.Length = length;
            if (header.Type == PacketType.Batch)
                header.Sequence = 0;
            Assert.Equal(header, read);
        }, iter: 20_000);
    }

    [Fact]
    public void Auth_header_reads_back_its_fields()
    {
        Gen.Select(Gen.Byte.Array[0, 600], Gen.Byte.Array[0, 120], Gen.Byte.Array[0, 300], Gen.UShort, Gen.Bool).Sample((certificate, key, signature, sequence, reliable) =>
        {
            var flags = reliable ? PacketFlags.Reliable : PacketFlags.None;
            var datagram = new byte[PacketWriter.AuthHeaderLength(certificate.Length, key.Length, signature.Length) + 10];
            var length = PacketWriter.WriteAuthHeader(datagram, flags, sequence, certificate, key, signature);

            Assert.True(PacketReader.TryRead(datagram, out var header, out _));
            Assert.Equal((PacketType.Auth, flags, sequence, ProtocolConstants.Version1, length), (header.Type, header.Flags, header.Sequence, header.Version, header.Length));
            Assert.Equal(certificate, datagram[header.Certificate]);
            Assert.Equal(key, datagram[header.Key]);
            Assert.Equal(signature, datagram[header.Signature]);
        }, iter: 2_000);
    }

    [Fact]
    public void Random_bytes_never_throw_and_failures_name_a_minor()
    {
        Gen.Byte.Array[0, 80].Sample(bytes =>
        {
            if (PacketReader.TryRead(bytes, out var header, out var error))
            {
                Assert.InRange(header.Length, ProtocolConstants.FixedHeaderSize, bytes.Length);
            }
            else
            {
                Assert.True(Enum.IsDefined(error));
            }
            var batch = new BatchReader(bytes);
            while (batch.TryReadNext(out var inner))
                PacketReader.TryRead(inner, out _, out _);
        }, iter: 200_000);
    }

    [Fact]
    public void Truncating_a_valid_datagram_fails_cleanly_at_every_length()
    {
        GenHeader.Sample(header =>
        {
            var datagram = new byte[PacketWriter.HeaderLength(header.Type, header.Flags) + (header.Has(PacketFlags.Encrypted) ? ProtocolConstants.TagSize : 0)];
            PacketWriter.WriteHeader(datagram, header);
            for (var length = 0; length < datagram.Length; length++)
                Assert.False(PacketReader.TryRead(datagram.AsSpan(0, length), out _, out _));
            Assert.True(PacketReader.TryRead(datagram, out _, out _));
        }, iter: 5_000);
    }

    private static PacketHeader Build(PacketType type, PacketFlags flags, ushort sequence, byte count, byte id, ulong pn, uint crc,
        ushort ackId, ushort ackBits, HeartbeatKind beat, ErrorCode error)
    {
        var header = PacketHeader.Create(type, flags, sequence);
        if (header.Has(PacketFlags.Frag))
        {
            header.FragmentCount = count;
            header.FragmentId = id;
        }
        if (header.Has(PacketFlags.Encrypted))
            header.PacketNumber = pn;
        if (header.Has(PacketFlags.Checksum))
            header.Checksum = crc;
        switch (type)
        {
            case PacketType.Ack:
                header.AckId = ackId;
                header.AckBits = ackBits;
                break;
            case PacketType.Heartbeat:
                header.Beat = beat;
                break;
            case PacketType.Error:
                header.Error = error;
                break;
        }
        return header;
    }
}
