using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;
using CsCheck;
using Paperclip.Protocol.Crypto;

namespace Paperclip.Protocol.Tests.Crypto;

/// <summary>libsodium's AES-256-GCM and .NET's give the same bytes, so either end may run either.</summary>
public sealed class AeadBackendTests
{
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] Iv = RandomNumberGenerator.GetBytes(12);

    [Fact]
    public void Libsodium_is_the_default_where_the_processor_has_aes_ni_and_pclmul()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && System.Runtime.Intrinsics.X86.Aes.IsSupported && Pclmulqdq.IsSupported, "libsodium's AES-GCM needs x64 Linux with AES-NI and PCLMUL here");
        Assert.Equal(AeadBackend.Sodium, PacketProtection.DefaultBackend);
        using var protection = new PacketProtection(Key, Iv);
        Assert.Equal(AeadBackend.Sodium, protection.Backend);
    }

    [Fact]
    public void Each_backend_opens_what_the_other_sealed_byte_for_byte()
    {
        using var sodiumSender = new PacketProtection(Key, Iv, AeadBackend.Sodium);
        using var dotnetSender = new PacketProtection(Key, Iv, AeadBackend.DotNet);
        using var sodiumReceiver = new PacketProtection(Key, Iv, AeadBackend.Sodium);
        using var dotnetReceiver = new PacketProtection(Key, Iv, AeadBackend.DotNet);
        Gen.Select(Gen.Byte.Array[0, 1200], Gen.Int[3, 30], Gen.ULong).Sample((plaintext, headerLength, pn) =>
        {
            var header = RandomNumberGenerator.GetBytes(headerLength);
            var bySodium = Seal(sodiumSender, header, plaintext, pn);
            var byDotnet = Seal(dotnetSender, header, plaintext, pn);
            Assert.Equal(byDotnet, bySodium);

            Assert.True(dotnetReceiver.TryOpen(bySodium, headerLength, pn, out var length));
            Assert.Equal(plaintext, bySodium.AsSpan(headerLength, length).ToArray());
            Assert.True(sodiumReceiver.TryOpen(byDotnet, headerLength, pn, out length));
            Assert.Equal(plaintext, byDotnet.AsSpan(headerLength, length).ToArray());
        }, iter: 1_000, threads: 1);
    }

    [Fact]
    public void A_forgery_fails_to_open_on_libsodium_and_no_plaintext_is_left_behind()
    {
        using var protection = new PacketProtection(Key, Iv, AeadBackend.Sodium);
        var plaintext = "hello, world"u8.ToArray();
        var datagram = Seal(protection, [1, 2, 3], plaintext, 5);
        var good = (byte[])datagram.Clone();
        datagram[^1] ^= 1;
        Assert.False(protection.TryOpen(datagram, 3, 5, out var length));
        Assert.Equal(0, length);
        Assert.NotEqual(plaintext, datagram.AsSpan(3, plaintext.Length).ToArray());
        Assert.True(protection.TryOpen(good, 3, 5, out _));
        Assert.Equal(plaintext, good.AsSpan(3, plaintext.Length).ToArray());
    }

    [Fact]
    public void Libsodium_seal_and_open_allocate_nothing()
    {
        using var protection = new PacketProtection(Key, Iv, AeadBackend.Sodium);
        var datagram = new byte[3 + 1000 + 16];
        protection.Seal(datagram, 3, 1000, 0);
        Assert.True(protection.TryOpen(datagram, 3, 0, out _));
        // Three rounds of 1,000: a packet path that allocates does so in every round, while the
        // runtime's own one-off work on this thread (tiering up the methods mid-round, seen once
        // under a full test run on .NET 8) lands in one round only.
        var allocated = new List<long>();
        var pn = 1UL;
        for (var round = 0; round < 3; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 1000; i++, pn++)
            {
                protection.Seal(datagram, 3, 1000, pn);
                protection.TryOpen(datagram, 3, pn, out _);
            }
            allocated.Add(GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Contains(0L, allocated);
    }

    private static byte[] Seal(PacketProtection protection, byte[] header, byte[] plaintext, ulong pn)
    {
        var datagram = new byte[header.Length + plaintext.Length + ProtocolConstants.TagSize];
        header.CopyTo(datagram, 0);
        plaintext.CopyTo(datagram, header.Length);
        protection.Seal(datagram, header.Length, plaintext.Length, pn);
        return datagram;
    }
}
