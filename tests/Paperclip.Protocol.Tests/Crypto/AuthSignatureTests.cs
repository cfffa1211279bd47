using System.Security.Cryptography;
using CsCheck;
using Paperclip.Protocol.Certificates;
using Paperclip.Protocol.Crypto;

namespace Paperclip.Protocol.Tests.Crypto;

/// <summary>AUTH signatures (protocol §5.2) with freshly made keys of both algorithms.</summary>
public sealed class AuthSignatureTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    public static TheoryData<KeyAlgorithm> Algorithms => [KeyAlgorithm.EcdsaP256, KeyAlgorithm.Rsa2048];

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Client_signature_round_trips(KeyAlgorithm algorithm)
    {
        using var key = AccountKey.Generate(algorithm);
        var certificate = AccountCertificate.Create(key, 1, "Mario", Now, TimeSpan.FromHours(1));
        var ephemeral = RandomNumberGenerator.GetBytes(91);
        var signature = AuthSignature.SignClient(key, ephemeral);

        Assert.True(AuthSignature.VerifyClient(certificate, ephemeral, signature));
        ephemeral[^1] ^= 1;
        Assert.False(AuthSignature.VerifyClient(certificate, ephemeral, signature));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Server_signature_round_trips(KeyAlgorithm algorithm)
    {
        using var key = AccountKey.Generate(algorithm);
        var certificate = ServerCertificate.Create(key, Now, TimeSpan.FromHours(1));
        var clientAuth = RandomNumberGenerator.GetBytes(1200);
        var ephemeral = RandomNumberGenerator.GetBytes(91);
        var signature = AuthSignature.SignServer(key, clientAuth, ephemeral);

        Assert.True(AuthSignature.VerifyServer(certificate, clientAuth, ephemeral, signature));
        // Not valid as a client signature: the labels differ.
        Assert.False(AuthSignature.VerifyClient(certificate, ephemeral, signature));
        clientAuth[0] ^= 1;
        Assert.False(AuthSignature.VerifyServer(certificate, clientAuth, ephemeral, signature));
    }

    [Fact]
    public void Ecdsa_signature_is_der_encoded()
    {
        using var key = AccountKey.Generate();
        var signature = AuthSignature.SignClient(key, [1, 2, 3]);
        // SEQUENCE { INTEGER r, INTEGER s }
        Assert.Equal(0x30, signature[0]);
        Assert.Equal(signature.Length - 2, signature[1]);
    }

    [Fact]
    public void Signature_by_another_key_is_refused()
    {
        using var key = AccountKey.Generate();
        using var other = AccountKey.Generate();
        var certificate = AccountCertificate.Create(key, 1, "Mario", Now, TimeSpan.FromHours(1));
        Assert.False(AuthSignature.VerifyClient(certificate, [1, 2, 3], AuthSignature.SignClient(other, [1, 2, 3])));
    }

    [Fact]
    public void Garbage_is_refused_without_throwing()
    {
        using var key = AccountKey.Generate();
        var certificate = AccountCertificate.Create(key, 1, "Mario", Now, TimeSpan.FromHours(1));
        var signature = AuthSignature.SignClient(key, [1, 2, 3]);
        Gen.Byte.Array[0, 300].Sample(garbage =>
        {
            Assert.False(AuthSignature.VerifyClient(garbage, [1, 2, 3], signature));
            Assert.False(AuthSignature.VerifyClient(certificate, [1, 2, 3], garbage));
            Assert.False(AuthSignature.VerifyServer(garbage, garbage, [1, 2, 3], garbage));
        }, iter: 500);
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void The_key_read_in_place_is_the_one_the_full_parse_finds(KeyAlgorithm algorithm)
    {
        using var key = AccountKey.Generate(algorithm);
        foreach (var certificate in new[] { AccountCertificate.Create(key, 1, "Mario", Now, TimeSpan.FromHours(1)), ServerCertificate.Create(key, Now, TimeSpan.FromHours(1)) })
        {
            Assert.True(CertificateParts.TryParse(certificate, out var parts));
            Assert.True(CertificateParts.TryReadSubjectPublicKeyInfo(certificate, out var subjectPublicKeyInfo));
            Assert.Equal(parts.SubjectPublicKeyInfo.ToArray(), subjectPublicKeyInfo.ToArray());
            Assert.Equal(key.ExportSubjectPublicKeyInfo(), subjectPublicKeyInfo.ToArray());

            // Every truncation, and trailing bytes, are refused without an exception.
            for (var length = 0; length < certificate.Length; length++)
                Assert.False(CertificateParts.TryReadSubjectPublicKeyInfo(certificate.AsSpan(0, length), out _));
            Assert.False(CertificateParts.TryReadSubjectPublicKeyInfo([.. certificate, 0], out _));
        }
    }

    [Fact]
    public void Unsupported_key_types_are_refused_at_signing()
    {
        using var dsa = ECDiffieHellman.Create();
        Assert.Throws<ArgumentException>(() => AuthSignature.SignClient(dsa, [1]));
    }
}
