using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using CsCheck;
using Paperclip.Protocol.Certificates;

namespace Paperclip.Protocol.Tests.Certificates;

/// <summary>Account certificates (protocol §5.3, api.md): vectors and round trips.</summary>
public sealed class AccountCertificateTests
{
    private static JsonElement Account => Vectors.Root.GetProperty("account");
    private static byte[] Certificate => Account.Base64("certificate_b64");
    private static byte[] PublicKey => Account.Base64("public_key_spki_b64");
    private static readonly DateTimeOffset NotBefore = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Vector_certificate_is_valid_at_check_time()
    {
        Assert.True(AccountCertificate.Validate(Certificate, PublicKey, Vectors.CheckTime));
    }

    [Fact]
    public void Vector_certificate_is_valid_exactly_within_its_validity()
    {
        Assert.True(AccountCertificate.Validate(Certificate, PublicKey, NotBefore));
        Assert.True(AccountCertificate.Validate(Certificate, PublicKey, NotBefore.AddDays(1)));
        Assert.False(AccountCertificate.Validate(Certificate, PublicKey, NotBefore.AddSeconds(-1)));
        Assert.False(AccountCertificate.Validate(Certificate, PublicKey, NotBefore.AddDays(1).AddSeconds(1)));
        Assert.False(AccountCertificate.Validate(Certificate, PublicKey, Vectors.CheckTime.AddDays(1)));
    }

    [Fact]
    public void Forged_certificate_is_invalid()
    {
        var forged = Account.Base64("forged_certificate_b64");
        Assert.False(AccountCertificate.Validate(forged, PublicKey, Vectors.CheckTime));
        // It does claim the identity; only the key gives it away.
        Assert.True(AccountCertificate.TryReadIdentity(forged, out var identity));
        Assert.Equal(new AccountIdentity(1, "Mario"), identity);
    }

    [Fact]
    public void Vector_certificate_names_mario()
    {
        Assert.True(AccountCertificate.TryReadIdentity(Certificate, out var identity));
        Assert.Equal(new AccountIdentity(1, "Mario"), identity);
    }

    [Fact]
    public void Certificate_is_invalid_against_another_key()
    {
        var serverKey = Vectors.Root.GetProperty("server").Base64("public_key_spki_b64");
        Assert.False(AccountCertificate.Validate(Certificate, serverKey, Vectors.CheckTime));
    }

    [Fact]
    public void Any_change_to_the_signed_part_invalidates_it()
    {
        var certificate = Certificate;
        // Flip one bit in the issuer/subject area (inside the TBS) and one in the signature.
        foreach (var index in new[] { 70, 120, certificate.Length - 1 })
        {
            var tampered = (byte[])certificate.Clone();
            tampered[index] ^= 1;
            Assert.False(AccountCertificate.Validate(tampered, PublicKey, Vectors.CheckTime), $"byte {index}");
        }
    }

    [Theory]
    [InlineData(KeyAlgorithm.EcdsaP256)]
    [InlineData(KeyAlgorithm.Rsa2048)]
    public void Created_certificate_round_trips(KeyAlgorithm algorithm)
    {
        using var key = AccountKey.Generate(algorithm);
        var publicKey = AccountKey.ExportPublicKey(key);
        var certificate = AccountCertificate.Create(key, 42, "Bowser", NotBefore, TimeSpan.FromDays(1));

        Assert.True(AccountCertificate.Validate(certificate, publicKey, NotBefore.AddHours(12)));
        Assert.False(AccountCertificate.Validate(certificate, publicKey, NotBefore.AddDays(1).AddSeconds(1)));
        Assert.True(AccountCertificate.TryReadIdentity(certificate, out var identity));
        Assert.Equal(new AccountIdentity(42, "Bowser"), identity);
        Assert.True(ServerCertificate.HasAccountId(certificate));
        Assert.False(ServerCertificate.Validate(certificate, publicKey, NotBefore.AddHours(12)));

        using var other = AccountKey.Generate(algorithm);
        Assert.False(AccountCertificate.Validate(certificate, AccountKey.ExportPublicKey(other), NotBefore.AddHours(12)));
    }

    [Fact]
    public void Created_certificate_has_the_specified_fields()
    {
        using var key = AccountKey.Generate();
        var bytes = AccountCertificate.Create(key, 3, "Peach", NotBefore, TimeSpan.FromHours(6), "Acme", "game.example");
        using var certificate = X509CertificateLoader.LoadCertificate(bytes);

        Assert.Equal(3, certificate.Version);
        Assert.Equal(certificate.SubjectName.RawData, certificate.IssuerName.RawData);
        Assert.Equal(
            [("2.5.4.10", "Acme"), ("2.5.4.3", "game.example"), ("0.9.2342.19200300.100.1.1", "3"), ("2.5.4.65", "Peach")],
            Utf8Attributes(certificate.SubjectName));
        Assert.Equal("1.2.840.10045.4.3.2", certificate.SignatureAlgorithm.Value);
        Assert.Equal(NotBefore, new DateTimeOffset(certificate.NotBefore.ToUniversalTime()));
        Assert.Equal(NotBefore.AddHours(6), new DateTimeOffset(certificate.NotAfter.ToUniversalTime()));
        var san = Assert.Single(certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>());
        Assert.Equal(["localhost"], san.EnumerateDnsNames());
        Assert.Equal(AccountKey.ExportPublicKey(key), certificate.PublicKey.ExportSubjectPublicKeyInfo());
    }

    [Fact]
    public void Serials_are_random()
    {
        using var key = AccountKey.Generate();
        using var a = X509CertificateLoader.LoadCertificate(AccountCertificate.Create(key, 1, "Mario", NotBefore, TimeSpan.FromHours(1)));
        using var b = X509CertificateLoader.LoadCertificate(AccountCertificate.Create(key, 1, "Mario", NotBefore, TimeSpan.FromHours(1)));
        Assert.NotEqual(a.SerialNumber, b.SerialNumber);
        Assert.True(a.GetSerialNumber().Length >= 8);
    }

    [Fact]
    public void Validity_over_one_day_is_refused()
    {
        using var key = AccountKey.Generate();
        Assert.Throws<ArgumentOutOfRangeException>(() => AccountCertificate.Create(key, 1, "Mario", NotBefore, TimeSpan.FromDays(1).Add(TimeSpan.FromSeconds(1))));
        Assert.Throws<ArgumentOutOfRangeException>(() => AccountCertificate.Create(key, 1, "Mario", NotBefore, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => AccountCertificate.Create(key, -1, "Mario", NotBefore, TimeSpan.FromHours(1)));
    }

    [Fact]
    public void Certificate_valid_for_longer_than_a_day_is_invalid()
    {
        // Made by hand, since Create refuses it: signed correctly with the right key, but two days long.
        using var key = AccountKey.Generate();
        var name = new X500DistinguishedNameBuilder();
        name.AddOrganizationName("Paperclip");
        name.Add("0.9.2342.19200300.100.1.1", "1");
        name.Add("2.5.4.65", "Mario");
        var request = new CertificateRequest(name.Build(), (ECDsa)key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(NotBefore, NotBefore.AddDays(2));
        Assert.False(AccountCertificate.Validate(certificate.RawData, AccountKey.ExportPublicKey(key), NotBefore.AddHours(1)));
    }

    [Fact]
    public void Certificate_without_uid_has_no_identity_and_is_no_account_certificate()
    {
        using var key = AccountKey.Generate();
        var certificate = ServerCertificate.Create(key, NotBefore, TimeSpan.FromHours(1));
        Assert.False(AccountCertificate.TryReadIdentity(certificate, out _));
        Assert.False(AccountCertificate.Validate(certificate, AccountKey.ExportPublicKey(key), NotBefore.AddMinutes(1)));
    }

    [Theory]
    [InlineData("+1")]
    [InlineData("-1")]
    [InlineData(" 1")]
    [InlineData("one")]
    [InlineData("99999999999999999999")]
    public void Uid_must_be_a_plain_decimal_id(string uid)
    {
        using var key = AccountKey.Generate();
        var name = new X500DistinguishedNameBuilder();
        name.Add("0.9.2342.19200300.100.1.1", uid);
        name.Add("2.5.4.65", "Mario");
        using var certificate = new CertificateRequest(name.Build(), (ECDsa)key, HashAlgorithmName.SHA256).CreateSelfSigned(NotBefore, NotBefore.AddHours(1));
        Assert.False(AccountCertificate.TryReadIdentity(certificate.RawData, out _));
        Assert.False(AccountCertificate.Validate(certificate.RawData, AccountKey.ExportPublicKey(key), NotBefore.AddMinutes(1)));
        Assert.True(ServerCertificate.HasAccountId(certificate.RawData));
    }

    [Fact]
    public void Garbage_is_refused_without_throwing()
    {
        Assert.False(AccountCertificate.TryReadIdentity([], out _));
        Assert.False(AccountCertificate.Validate([], PublicKey, Vectors.CheckTime));
        Assert.False(AccountCertificate.Validate(Certificate, [], Vectors.CheckTime));
        Assert.False(AccountCertificate.Validate(Certificate.AsSpan(0, 100), PublicKey, Vectors.CheckTime));
        Assert.False(AccountCertificate.Validate([.. Certificate, 0], PublicKey, Vectors.CheckTime));
        Gen.Byte.Array[0, 400].Sample(garbage =>
        {
            Assert.False(AccountCertificate.TryReadIdentity(garbage, out _));
            Assert.False(AccountCertificate.Validate(garbage, PublicKey, Vectors.CheckTime));
        }, iter: 1_000);
    }

    [Theory]
    [InlineData(0x1C)] // UniversalString: AsnReader cannot decode it
    [InlineData(0x14)] // T61String
    [InlineData(0x1A)] // VisibleString
    [InlineData(0x12)] // NumericString: "Mario" is not numeric
    [InlineData(0x1E)] // BMPString: an odd length is malformed
    [InlineData(0x04)] // OCTET STRING: not a string type at all
    public void Other_string_types_in_the_name_never_throw(byte tag)
    {
        var certificate = Certificate;
        // Offset 229 is the UTF8String tag of the subject's pseudonym "Mario" (see openssl asn1parse).
        Assert.Equal(0x0C, certificate[229]);
        Assert.Equal("Mario"u8.ToArray(), certificate.AsSpan(231, 5).ToArray());
        certificate[229] = tag;
        var readable = AccountCertificate.TryReadIdentity(certificate, out var identity);
        Assert.Equal(tag is 0x14 or 0x1A, readable);
        if (readable)
            Assert.Equal(new AccountIdentity(1, "Mario"), identity);
        Assert.False(AccountCertificate.Validate(certificate, PublicKey, Vectors.CheckTime));
    }

    [Fact]
    public void Truncations_and_corruptions_of_the_vector_never_throw()
    {
        var certificate = Certificate;
        Gen.Int[0, certificate.Length - 1].Select(Gen.Byte).Sample((index, value) =>
        {
            var corrupted = (byte[])certificate.Clone();
            corrupted[index] = value;
            AccountCertificate.TryReadIdentity(corrupted, out _);
            Assert.Equal(corrupted.AsSpan().SequenceEqual(certificate), AccountCertificate.Validate(corrupted, PublicKey, Vectors.CheckTime));
            Assert.False(AccountCertificate.Validate(certificate.AsSpan(0, index), PublicKey, Vectors.CheckTime));
        }, iter: 5_000);
    }

    // The attributes in DER order; each value must be a UTF8String, as in the vectors.
    private static List<(string, string)> Utf8Attributes(X500DistinguishedName name)
    {
        var attributes = new List<(string, string)>();
        var rdns = new AsnReader(name.RawData, AsnEncodingRules.DER).ReadSequence();
        while (rdns.HasData)
        {
            var attribute = rdns.ReadSetOf().ReadSequence();
            attributes.Add((attribute.ReadObjectIdentifier(), attribute.ReadCharacterString(UniversalTagNumber.UTF8String)));
        }
        return attributes;
    }
}
