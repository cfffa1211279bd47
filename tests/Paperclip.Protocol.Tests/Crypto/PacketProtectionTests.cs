using System.Security.Cryptography;
using CsCheck;
using Paperclip.Protocol.Crypto;

namespace Paperclip.Protocol.Tests.Crypto;

/// <summary>Sealing and opening datagrams (protocol §6.3).</summary>
public sealed class PacketProtectionTests
{
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] Iv = RandomNumberGenerator.GetBytes(12);

    // A DEFAULT+ENCRYPTED header (TF, SEQ, PN) followed by the plaintext and room for the tag.
    private static (byte[] Datagram, int HeaderLength) Datagram(ulong pn, ReadOnlySpan<byte> plaintext)
    {
        var header = PacketHeader.Create(PacketType.Default, PacketFlags.Encrypted, 7);
        header.PacketNumber = pn;
        var headerLength = PacketWriter.HeaderLength(header.Type, header.Flags);
        var datagram = new byte[headerLength + plaintext.Length + ProtocolConstants.TagSize];
        PacketWriter.WriteHeader(datagram, header);
        plaintext.CopyTo(datagram.AsSpan(headerLength));
        return (datagram, headerLength);
    }

    [Fact]
    public void Seal_then_open_round_trips_any_data()
    {
        using var sender = new PacketProtection(Key, Iv);
        using var receiver = new PacketProtection(Key, Iv);
        Gen.Select(Gen.Byte.Array[0, 1200], Gen.ULong).Sample((plaintext, pn) =>
        {
            var (datagram, headerLength) = Datagram(pn, plaintext);
            Assert.Equal(datagram.Length, sender.Seal(datagram, headerLength, plaintext.Length, pn));
            if (plaintext.Length >= 16)
                Assert.NotEqual(plaintext, datagram.AsSpan(headerLength, plaintext.Length).ToArray());

            Assert.True(receiver.TryOpen(datagram, headerLength, pn, out var length));
            Assert.Equal(plaintext, datagram.AsSpan(headerLength, length).ToArray());
        }, iter: 2_000, threads: 1); // one thread: a PacketProtection is not thread safe
    }

    [Fact]
    public void Any_flipped_bit_fails_to_open()
    {
        using var protection = new PacketProtection(Key, Iv);
        var (sealedDatagram, headerLength) = Datagram(42, "hello, world"u8);
        protection.Seal(sealedDatagram, headerLength, 12, 42);

        // Every bit: header (associated data, PN included), ciphertext and tag.
        for (var bit = 0; bit < sealedDatagram.Length * 8; bit++)
        {
            var tampered = (byte[])sealedDatagram.Clone();
            tampered[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(protection.TryOpen(tampered, headerLength, 42, out var length), $"bit {bit}");
            Assert.Equal(0, length);
        }
    }

    [Fact]
    public void Wrong_packet_number_key_or_iv_fails_to_open()
    {
        using var protection = new PacketProtection(Key, Iv);
        var (datagram, headerLength) = Datagram(5, "payload"u8);
        protection.Seal(datagram, headerLength, 7, 5);

        Assert.False(protection.TryOpen((byte[])datagram.Clone(), headerLength, 6, out _));
        var otherKey = (byte[])Key.Clone();
        otherKey[0] ^= 1;
        using var wrongKey = new PacketProtection(otherKey, Iv);
        Assert.False(wrongKey.TryOpen((byte[])datagram.Clone(), headerLength, 5, out _));
        var otherIv = (byte[])Iv.Clone();
        otherIv[11] ^= 1;
        using var wrongIv = new PacketProtection(Key, otherIv);
        Assert.False(wrongIv.TryOpen((byte[])datagram.Clone(), headerLength, 5, out _));
        Assert.True(protection.TryOpen(datagram, headerLength, 5, out _));
    }

    [Fact]
    public void Nonce_is_the_iv_xor_the_packet_number()
    {
        // With a zero IV the nonce is 0^4 || PN; an IV of 0^4 || PN with PN 0 must give the same bytes.
        const ulong pn = 0x0102030405060708;
        var iv = new byte[12];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(iv.AsSpan(4), pn);
        using var zeroIv = new PacketProtection(Key, new byte[12]);
        using var pnIv = new PacketProtection(Key, iv);
        var (a, headerLength) = Datagram(0, "same"u8);
        var b = (byte[])a.Clone();
        zeroIv.Seal(a, headerLength, 4, pn);
        pnIv.Seal(b, headerLength, 4, 0);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Too_short_datagram_fails_to_open_without_throwing()
    {
        using var protection = new PacketProtection(Key, Iv);
        Assert.False(protection.TryOpen(new byte[11 + 15], 11, 0, out _));
        Assert.False(protection.TryOpen(new byte[10], 11, 0, out _));
        Assert.False(protection.TryOpen(new byte[40], -1, 0, out _));
    }

    [Fact]
    public void Seal_refuses_a_datagram_without_room_for_the_tag()
    {
        using var protection = new PacketProtection(Key, Iv);
        Assert.Throws<ArgumentException>(() => protection.Seal(new byte[11 + 4 + 15], 11, 4, 0));
    }

    [Fact]
    public void Constructor_checks_key_and_iv_sizes()
    {
        Assert.Throws<ArgumentException>(() => new PacketProtection(new byte[16], Iv));
        Assert.Throws<ArgumentException>(() => new PacketProtection(Key, new byte[8]));
    }

    [Fact]
    public void Disposed_protection_refuses_to_work()
    {
        var protection = new PacketProtection(Key, Iv);
        protection.Dispose();
        protection.Dispose();
        Assert.Throws<ObjectDisposedException>(() => protection.Seal(new byte[64], 11, 4, 0));
        Assert.Throws<ObjectDisposedException>(() => protection.TryOpen(new byte[64], 11, 0, out _));
    }

    [Fact]
    public void Seal_and_open_allocate_nothing()
    {
        using var sender = new PacketProtection(Key, Iv);
        using var receiver = new PacketProtection(Key, Iv);
        var (datagram, headerLength) = Datagram(0, new byte[1200 - 11 - 16]);
        var plaintextLength = datagram.Length - headerLength - ProtocolConstants.TagSize;
        var window = new ReplayWindow();

        void RoundTrip(ulong pn)
        {
            sender.Seal(datagram, headerLength, plaintextLength, pn);
            Assert.True(window.IsFresh(pn));
            Assert.True(receiver.TryOpen(datagram, headerLength, pn, out _));
            window.Record(pn);
        }

        for (ulong pn = 0; pn < 100; pn++)
            RoundTrip(pn);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (ulong pn = 100; pn < 1100; pn++)
            RoundTrip(pn);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
