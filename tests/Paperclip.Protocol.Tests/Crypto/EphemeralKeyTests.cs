using System.Security.Cryptography;
using CsCheck;
using Paperclip.Protocol.Crypto;

namespace Paperclip.Protocol.Tests.Crypto;

/// <summary>Ephemeral P-256 keys and ECDH (protocol §6.1).</summary>
public sealed class EphemeralKeyTests
{
    [Fact]
    public void Generated_pairs_agree_on_z()
    {
        using var a = EphemeralKey.Generate();
        using var b = EphemeralKey.Generate();
        Span<byte> za = stackalloc byte[32];
        Span<byte> zb = stackalloc byte[32];
        Assert.True(a.TryDeriveSharedSecret(b.PublicKey, za));
        Assert.True(b.TryDeriveSharedSecret(a.PublicKey, zb));
        Assert.True(za.SequenceEqual(zb));
        Assert.NotEqual(a.PublicKey, b.PublicKey);
    }

    [Fact]
    public void Public_key_is_a_p256_spki()
    {
        using var key = EphemeralKey.Generate();
        using var imported = ECDiffieHellman.Create();
        imported.ImportSubjectPublicKeyInfo(key.PublicKey, out var read);
        Assert.Equal(key.PublicKey.Length, read);
        Assert.Equal("1.2.840.10045.3.1.7", imported.ExportParameters(false).Curve.Oid.Value);
    }

    [Fact]
    public void Point_off_the_curve_is_refused()
    {
        using var key = EphemeralKey.Generate();
        using var peer = EphemeralKey.Generate();
        var spki = (byte[])peer.PublicKey.Clone();
        // The uncompressed point's Y coordinate ends the SPKI: change it and the point leaves the curve.
        spki[^1] ^= 1;
        Assert.False(key.TryDeriveSharedSecret(spki, new byte[32]));
    }

    [Fact]
    public void Other_curves_are_refused()
    {
        using var key = EphemeralKey.Generate();
        using var p384 = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP384);
        Assert.False(key.TryDeriveSharedSecret(p384.ExportSubjectPublicKeyInfo(), new byte[48]));
        using var rsa = RSA.Create(2048);
        Assert.False(key.TryDeriveSharedSecret(rsa.ExportSubjectPublicKeyInfo(), new byte[32]));
    }

    [Fact]
    public void Trailing_bytes_are_refused()
    {
        using var key = EphemeralKey.Generate();
        using var peer = EphemeralKey.Generate();
        Assert.False(key.TryDeriveSharedSecret([.. peer.PublicKey, 0], new byte[32]));
        Assert.False(key.TryDeriveSharedSecret(peer.PublicKey.AsSpan(0, peer.PublicKey.Length - 1), new byte[32]));
    }

    [Fact]
    public void Garbage_is_refused_without_throwing()
    {
        using var key = EphemeralKey.Generate();
        var z = new byte[32];
        Assert.False(key.TryDeriveSharedSecret([], z));
        Gen.Byte.Array[0, 200].Sample(garbage => Assert.False(key.TryDeriveSharedSecret(garbage, z)), iter: 2_000);
    }

    [Fact]
    public void Scalar_must_be_32_bytes()
    {
        Assert.Throws<ArgumentException>(() => EphemeralKey.FromPrivateScalar(new byte[31]));
    }

    [Fact]
    public void Private_scalar_rebuilds_the_same_key()
    {
        var scalar = new byte[32];
        scalar[31] = 1;
        using var one = EphemeralKey.FromPrivateScalar(scalar);
        // 1·G is the P-256 generator: its X coordinate is fixed by SEC 2.
        var x = Convert.FromHexString("6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296");
        Assert.Equal(x, one.PublicKey.AsSpan(one.PublicKey.Length - 64, 32).ToArray());
    }
}
