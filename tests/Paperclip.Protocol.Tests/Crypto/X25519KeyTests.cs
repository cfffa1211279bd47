using System.Security.Cryptography;
using Paperclip.Protocol.Crypto;

namespace Paperclip.Protocol.Tests.Crypto;

/// <summary>X25519 ephemeral keys and the exact KEY forms of protocol §6.1.</summary>
public sealed class X25519KeyTests
{
    private static readonly byte[] SpkiPrefix = Convert.FromHexString("302a300506032b656e032100");

    [Fact]
    public void Generated_x25519_pairs_agree_on_z_and_carry_the_rfc_8410_spki()
    {
        using var a = EphemeralKey.Generate(KeyAgreement.X25519);
        using var b = EphemeralKey.Generate(KeyAgreement.X25519);
        Assert.Equal(44, a.PublicKey.Length);
        Assert.Equal(SpkiPrefix, a.PublicKey[..12]);
        var za = new byte[32];
        var zb = new byte[32];
        Assert.True(a.TryDeriveSharedSecret(b.PublicKey, za));
        Assert.True(b.TryDeriveSharedSecret(a.PublicKey, zb));
        Assert.Equal(za, zb);
    }

    [Fact]
    public void An_all_zero_shared_secret_is_refused()
    {
        using var key = EphemeralKey.Generate(KeyAgreement.X25519);
        // u = 0 and u = 1 are low-order points: the X25519 output is all zeros.
        Assert.False(key.TryDeriveSharedSecret([.. SpkiPrefix, .. new byte[32]], new byte[32]));
        var one = new byte[32];
        one[0] = 1;
        Assert.False(key.TryDeriveSharedSecret([.. SpkiPrefix, .. one], new byte[32]));
    }

    [Fact]
    public void Bit_255_of_the_peer_key_is_masked()
    {
        using var a = EphemeralKey.Generate(KeyAgreement.X25519);
        using var b = EphemeralKey.Generate(KeyAgreement.X25519);
        var high = (byte[])b.PublicKey.Clone();
        high[^1] |= 0x80;
        var plain = new byte[32];
        var masked = new byte[32];
        Assert.True(a.TryDeriveSharedSecret(b.PublicKey, plain));
        Assert.True(a.TryDeriveSharedSecret(high, masked));
        Assert.Equal(plain, masked);
    }

    [Fact]
    public void A_key_of_the_other_algorithm_is_refused()
    {
        using var x = EphemeralKey.Generate(KeyAgreement.X25519);
        using var p = EphemeralKey.Generate(KeyAgreement.P256);
        Assert.False(x.TryDeriveSharedSecret(p.PublicKey, new byte[32]));
        Assert.False(p.TryDeriveSharedSecret(x.PublicKey, new byte[32]));
    }

    [Fact]
    public void Only_the_two_exact_forms_are_identified()
    {
        using var x = EphemeralKey.Generate(KeyAgreement.X25519);
        using var p = EphemeralKey.Generate(KeyAgreement.P256);
        Assert.True(EphemeralKey.TryIdentify(x.PublicKey, out var algorithm));
        Assert.Equal(KeyAgreement.X25519, algorithm);
        Assert.True(EphemeralKey.TryIdentify(p.PublicKey, out algorithm));
        Assert.Equal(KeyAgreement.P256, algorithm);
        Assert.False(EphemeralKey.TryIdentify(x.PublicKey.AsSpan(0, 43), out _));
        Assert.False(EphemeralKey.TryIdentify([.. x.PublicKey, 0], out _));
    }

    [Fact]
    public void A_compressed_p256_point_is_refused()
    {
        using var key = EphemeralKey.Generate();
        using var peer = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var compressed = peer.PublicKey.ExportSubjectPublicKeyInfo();
        var parameters = peer.ExportParameters(false);
        // The same point, compressed: 02/03 || X in a shorter BIT STRING.
        var spki = new byte[59];
        Convert.FromHexString("3039301306072a8648ce3d020106082a8648ce3d030107032200").CopyTo(spki, 0);
        spki[26] = (byte)(2 | (parameters.Q.Y![^1] & 1));
        parameters.Q.X!.CopyTo(spki, 27);
        Assert.NotEqual(compressed.Length, spki.Length);
        Assert.False(EphemeralKey.TryIdentify(spki, out _));
        Assert.False(key.TryDeriveSharedSecret(spki, new byte[32]));
    }
}
