using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Paperclip.Protocol.Crypto;

namespace Paperclip.Protocol.Tests.Crypto;

/// <summary>
/// P-256 ephemeral keys through OpenSSL's libcrypto directly and through .NET's ECDiffieHellman
/// (the fallback where there is no OpenSSL 3): the same keys, the same Z, the same refusals.
/// </summary>
public sealed class P256BackendTests
{
    private const int SpkiPointOffset = 26; // where 0x04 || X || Y starts in the 91-byte SPKI

    // The P-256 field prime p and group order n (SEC 2 §2.4.2).
    private static readonly byte[] FieldPrime = Convert.FromHexString("FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF");
    private static readonly byte[] Order = Convert.FromHexString("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");

    private static LibCrypto Native => LibCrypto.Shared ?? throw new InvalidOperationException("libcrypto.so.3 did not load.");

    public static TheoryData<string> Backends => ["libcrypto", ".NET"];

    [Fact]
    public void Libcrypto_is_used_wherever_openssl_3_loads()
    {
        var openSsl3 = OperatingSystem.IsLinux() && NativeLibrary.TryLoad("libcrypto.so.3", out _);
        Assert.Equal(openSsl3, LibCrypto.Shared is not null);
        Assert.True(openSsl3, "This test machine is Linux with OpenSSL 3: the direct path must be the one tested.");
    }

    [Fact]
    public void A_missing_library_forces_the_dotnet_fallback_and_it_interoperates()
    {
        Assert.Null(LibCrypto.TryLoad("libpaperclip-no-such-crypto.so.3"));
        // A library without the EC functions is refused as well, not half used.
        Assert.Null(LibCrypto.TryLoad(OperatingSystem.IsLinux() ? "libc.so.6" : "no-such-library"));

        using var fallback = EphemeralKey.Generate(KeyAgreement.P256, libCrypto: null);
        using var native = EphemeralKey.Generate(KeyAgreement.P256, Native);
        var atFallback = new byte[32];
        var atNative = new byte[32];
        Assert.True(fallback.TryDeriveSharedSecret(native.PublicKey, atFallback));
        Assert.True(native.TryDeriveSharedSecret(fallback.PublicKey, atNative));
        Assert.Equal(atFallback, atNative);
        Assert.NotEqual(new byte[32], atNative);
    }

    [Fact]
    public void Both_backends_give_the_same_public_key_and_z_for_random_keys()
    {
        for (var i = 0; i < 40; i++)
        {
            var a = RandomScalar();
            var b = RandomScalar();
            using var aNative = EphemeralKey.FromPrivateScalar(a, Native);
            using var aDotNet = EphemeralKey.FromPrivateScalar(a, libCrypto: null);
            using var bNative = EphemeralKey.FromPrivateScalar(b, Native);
            using var bDotNet = EphemeralKey.FromPrivateScalar(b, libCrypto: null);
            Assert.Equal(aDotNet.PublicKey, aNative.PublicKey);
            Assert.Equal(bDotNet.PublicKey, bNative.PublicKey);

            var zNative = new byte[32];
            var zDotNet = new byte[32];
            var zPeer = new byte[32];
            Assert.True(aNative.TryDeriveSharedSecret(bNative.PublicKey, zNative));
            Assert.True(aDotNet.TryDeriveSharedSecret(bDotNet.PublicKey, zDotNet));
            Assert.True(bNative.TryDeriveSharedSecret(aDotNet.PublicKey, zPeer));
            Assert.Equal(zDotNet, zNative);
            Assert.Equal(zNative, zPeer);
        }
    }

    [Fact]
    public void Generated_native_keys_are_fresh_and_agree_with_dotnet_keys()
    {
        using var first = EphemeralKey.Generate(KeyAgreement.P256, Native);
        using var second = EphemeralKey.Generate(KeyAgreement.P256, Native);
        Assert.NotEqual(first.PublicKey, second.PublicKey);

        // .NET imports the SPKI with its own full validation: the point is on the curve.
        using var imported = ECDiffieHellman.Create();
        imported.ImportSubjectPublicKeyInfo(first.PublicKey, out var read);
        Assert.Equal(91, read);
        using var dotNet = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var expected = dotNet.DeriveRawSecretAgreement(imported.PublicKey);
        var z = new byte[32];
        Assert.True(first.TryDeriveSharedSecret(dotNet.ExportSubjectPublicKeyInfo(), z));
        Assert.Equal(expected, z);
    }

    public static TheoryData<string, string> InvalidKeys()
    {
        var data = new TheoryData<string, string>();
        foreach (var backend in new[] { "libcrypto", ".NET" })
        {
            foreach (var name in new[] { "off the curve", "(0, 0)", "X = p", "Y = p", "compressed prefix", "infinity prefix", "hybrid prefix", "one byte short", "one byte long", "infinity alone" })
                data.Add(backend, name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(InvalidKeys))]
    public void Invalid_points_are_refused_by_both_backends(string backend, string invalid)
    {
        using var key = EphemeralKey.Generate(KeyAgreement.P256, backend == "libcrypto" ? Native : null);
        using var peer = EphemeralKey.Generate(KeyAgreement.P256, Native);
        var spki = (byte[])peer.PublicKey.Clone();
        var x = spki.AsSpan(SpkiPointOffset + 1, 32);
        var y = spki.AsSpan(SpkiPointOffset + 33, 32);
        byte[] peerKey = invalid switch
        {
            "off the curve" => Flip(spki, ^1),
            "(0, 0)" => Fill(spki, SpkiPointOffset + 1, 64, 0),
            "X = p" => Set(spki, x, FieldPrime),
            "Y = p" => Set(spki, y, FieldPrime),
            "compressed prefix" => Set(spki, spki.AsSpan(SpkiPointOffset, 1), [(byte)(0x02 | (spki[^1] & 1))]),
            "infinity prefix" => Set(spki, spki.AsSpan(SpkiPointOffset, 1), [0x00]),
            "hybrid prefix" => Set(spki, spki.AsSpan(SpkiPointOffset, 1), [(byte)(0x06 | (spki[^1] & 1))]),
            "one byte short" => spki[..^1],
            "one byte long" => [.. spki, 0],
            // The SEC 1 encoding of the point at infinity, in an SPKI of the right shape otherwise.
            "infinity alone" => [0x30, 0x19, .. spki.AsSpan(2, 21), 0x03, 0x02, 0x00, 0x00],
            _ => throw new ArgumentOutOfRangeException(nameof(invalid)),
        };
        var z = new byte[32];
        Assert.False(key.TryDeriveSharedSecret(peerKey, z));
        Assert.Equal(new byte[32], z);
        // The key is still good for a valid peer afterwards (no error left behind in OpenSSL).
        Assert.True(key.TryDeriveSharedSecret(peer.PublicKey, z));
    }

    [Fact]
    public void The_native_agreement_refuses_the_point_at_infinity_and_points_off_the_curve()
    {
        // Below the SPKI check: oct2point decodes a lone 0x00 to the point at infinity, which
        // EC_POINT_is_on_curve accepts, so the explicit infinity check is what refuses it.
        using var key = P256LibCrypto.Generate(Native);
        using var peer = P256LibCrypto.Generate(Native);
        var point = new byte[P256LibCrypto.PointSize];
        peer.WritePublicPoint(point);
        var z = new byte[32];
        Assert.False(key.TryAgree([0x00], z));
        Assert.False(key.TryAgree([], z));
        Assert.False(key.TryAgree(Flip((byte[])point.Clone(), ^1), z));
        Assert.True(key.TryAgree(point, z));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Scalars_outside_one_to_n_minus_one_are_refused(string backend)
    {
        var libCrypto = backend == "libcrypto" ? Native : null;
        Assert.ThrowsAny<CryptographicException>(() => EphemeralKey.FromPrivateScalar(new byte[32], libCrypto));
        Assert.ThrowsAny<CryptographicException>(() => EphemeralKey.FromPrivateScalar(Order, libCrypto));
        var last = (byte[])Order.Clone();
        last[^1]--;
        using var nMinusOne = EphemeralKey.FromPrivateScalar(last, libCrypto);
        Assert.Equal(91, nMinusOne.PublicKey.Length);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void A_disposed_key_cannot_be_used(string backend)
    {
        var key = EphemeralKey.Generate(KeyAgreement.P256, backend == "libcrypto" ? Native : null);
        using var peer = EphemeralKey.Generate(KeyAgreement.P256, Native);
        key.Dispose();
        key.Dispose();
        Assert.Throws<ObjectDisposedException>(() => key.TryDeriveSharedSecret(peer.PublicKey, new byte[32]));
    }

    // A private scalar in [1, n − 1], as .NET generates one.
    private static byte[] RandomScalar()
    {
        using var key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        return key.ExportParameters(includePrivateParameters: true).D!;
    }

    private static byte[] Flip(byte[] bytes, Index at)
    {
        bytes[at] ^= 1;
        return bytes;
    }

    private static byte[] Fill(byte[] bytes, int start, int length, byte value)
    {
        bytes.AsSpan(start, length).Fill(value);
        return bytes;
    }

    private static byte[] Set(byte[] bytes, Span<byte> part, ReadOnlySpan<byte> value)
    {
        value.CopyTo(part);
        return bytes;
    }
}
