using System.Text.Json;
using CsCheck;
using Paperclip.Protocol.Certificates;

namespace Paperclip.Protocol.Tests.Certificates;

/// <summary>Server certificates (protocol §5.3): vectors and round trips.</summary>
public sealed class ServerCertificateTests
{
    private static JsonElement Server => Vectors.Root.GetProperty("server");
    private static byte[] Certificate => Server.Base64("certificate_b64");
    private static byte[] PublicKey => Server.Base64("public_key_spki_b64");
    private static readonly DateTimeOffset NotBefore = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Vector_certificate_is_valid_at_check_time_against_the_server_key()
    {
        Assert.True(ServerCertificate.Validate(Certificate, PublicKey, Vectors.CheckTime));
        Assert.False(ServerCertificate.HasAccountId(Certificate));
    }

    [Fact]
    public void Vector_certificate_is_invalid_against_the_account_key()
    {
        var accountKey = Vectors.Root.GetProperty("account").Base64("public_key_spki_b64");
        Assert.False(ServerCertificate.Validate(Certificate, accountKey, Vectors.CheckTime));
    }

    [Fact]
    public void Vector_certificate_is_invalid_outside_its_validity()
    {
        Assert.False(ServerCertificate.Validate(Certificate, PublicKey, NotBefore.AddSeconds(-1)));
        Assert.False(ServerCertificate.Validate(Certificate, PublicKey, Vectors.CheckTime.AddDays(1)));
    }

    [Fact]
    public void Account_certificate_is_no_server_certificate()
    {
        var account = Vectors.Root.GetProperty("account");
        var certificate = account.Base64("certificate_b64");
        Assert.True(ServerCertificate.HasAccountId(certificate));
        // Correctly signed by the key given, but it carries a UID.
        Assert.False(ServerCertificate.Validate(certificate, account.Base64("public_key_spki_b64"), Vectors.CheckTime));
    }

    [Theory]
    [InlineData(KeyAlgorithm.EcdsaP256)]
    [InlineData(KeyAlgorithm.Rsa2048)]
    public void Created_certificate_round_trips(KeyAlgorithm algorithm)
    {
        using var key = AccountKey.Generate(algorithm);
        var publicKey = AccountKey.ExportPublicKey(key);
        var certificate = ServerCertificate.Create(key, NotBefore, TimeSpan.FromDays(30));

        Assert.True(ServerCertificate.Validate(certificate, publicKey, NotBefore.AddDays(10)));
        Assert.False(ServerCertificate.Validate(certificate, publicKey, NotBefore.AddDays(31)));
        Assert.False(ServerCertificate.HasAccountId(certificate));
        Assert.False(ServerCertificate.Validate(certificate, PublicKey, NotBefore.AddDays(10)));
    }

    [Fact]
    public void Non_positive_validity_is_refused()
    {
        using var key = AccountKey.Generate();
        Assert.Throws<ArgumentOutOfRangeException>(() => ServerCertificate.Create(key, NotBefore, TimeSpan.Zero));
    }

    [Fact]
    public void Garbage_is_refused_without_throwing()
    {
        Assert.False(ServerCertificate.Validate([], PublicKey, Vectors.CheckTime));
        Assert.False(ServerCertificate.Validate(Certificate, [1, 2, 3], Vectors.CheckTime));
        Assert.False(ServerCertificate.HasAccountId([]));
        Gen.Byte.Array[0, 400].Sample(garbage =>
        {
            Assert.False(ServerCertificate.Validate(garbage, PublicKey, Vectors.CheckTime));
            Assert.False(ServerCertificate.HasAccountId(garbage));
        }, iter: 1_000);
    }
}
