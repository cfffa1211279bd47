using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Text.Json;
using CsCheck;
using Paperclip.Protocol.Certificates;

namespace Paperclip.Protocol.Tests.Certificates;

/// <summary>Account and server key formats (api.md).</summary>
public sealed class AccountKeyTests
{
    private static JsonElement Account => Vectors.Root.GetProperty("account");
    private static JsonElement Server => Vectors.Root.GetProperty("server");

    [Fact]
    public void Vector_account_key_decrypts_and_matches_its_public_key()
    {
        Assert.True(AccountKey.TryImportEncrypted(Account.Base64("encrypted_private_key_pkcs8_b64"), Account.Text("password"), out var key));
        using (key)
        {
            Assert.IsAssignableFrom<RSA>(key);
            Assert.Equal(Account.Base64("public_key_spki_b64"), AccountKey.ExportPublicKey(key));
        }
    }

    [Fact]
    public void Wrong_password_is_refused()
    {
        Assert.False(AccountKey.TryImportEncrypted(Account.Base64("encrypted_private_key_pkcs8_b64"), "ItsAMe124", out var key));
        Assert.Null(key);
    }

    [Fact]
    public void Vector_server_key_imports_and_matches_its_public_key()
    {
        using var key = AccountKey.ImportPrivateKey(Server.Base64("private_key_pkcs8_b64"));
        Assert.Equal(Server.Base64("public_key_spki_b64"), AccountKey.ExportPublicKey(key));
    }

    [Theory]
    [InlineData(KeyAlgorithm.EcdsaP256, typeof(ECDsa))]
    [InlineData(KeyAlgorithm.Rsa2048, typeof(RSA))]
    public void Generated_keys_round_trip_encrypted(KeyAlgorithm algorithm, Type type)
    {
        using var key = AccountKey.Generate(algorithm);
        Assert.IsAssignableFrom(type, key);
        var encrypted = AccountKey.ExportEncrypted(key, "MammaMia!");

        Assert.True(AccountKey.TryImportEncrypted(encrypted, "MammaMia!", out var imported));
        using (imported)
        {
            Assert.IsAssignableFrom(type, imported);
            Assert.Equal(AccountKey.ExportPublicKey(key), AccountKey.ExportPublicKey(imported));
        }
        Assert.False(AccountKey.TryImportEncrypted(encrypted, "mammamia!", out _));
    }

    [Theory]
    [InlineData(KeyAlgorithm.EcdsaP256, typeof(ECDsa))]
    [InlineData(KeyAlgorithm.Rsa2048, typeof(RSA))]
    public void Unencrypted_pkcs8_imports_as_its_algorithm(KeyAlgorithm algorithm, Type type)
    {
        using var key = AccountKey.Generate(algorithm);
        using var imported = AccountKey.ImportPrivateKey(key.ExportPkcs8PrivateKey());
        Assert.IsAssignableFrom(type, imported);
        Assert.Equal(AccountKey.ExportPublicKey(key), AccountKey.ExportPublicKey(imported));
    }

    [Fact]
    public void Generated_keys_have_the_expected_sizes()
    {
        using var ec = (ECDsa)AccountKey.Generate();
        Assert.Equal("1.2.840.10045.3.1.7", ec.ExportParameters(false).Curve.Oid.Value);
        using var rsa = AccountKey.Generate(KeyAlgorithm.Rsa2048);
        Assert.Equal(2048, rsa.KeySize);
    }

    [Theory]
    [InlineData(100_000)]
    [InlineData(123_456)]
    public void Export_uses_pbes2_aes256cbc_pbkdf2_sha256(int iterations)
    {
        using var key = AccountKey.Generate();
        var encrypted = AccountKey.ExportEncrypted(key, "pw", iterations);

        // EncryptedPrivateKeyInfo ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING }
        var info = new AsnReader(encrypted, AsnEncodingRules.DER).ReadSequence();
        var algorithm = info.ReadSequence();
        Assert.Equal("1.2.840.113549.1.5.13", algorithm.ReadObjectIdentifier()); // PBES2
        var pbes2 = algorithm.ReadSequence();
        var kdf = pbes2.ReadSequence();
        Assert.Equal("1.2.840.113549.1.5.12", kdf.ReadObjectIdentifier()); // PBKDF2
        var pbkdf2 = kdf.ReadSequence();
        Assert.True(pbkdf2.ReadOctetString().Length >= 8); // salt
        Assert.True(pbkdf2.TryReadInt32(out var rounds));
        Assert.Equal(iterations, rounds);
        if (pbkdf2.PeekTag().HasSameClassAndValue(Asn1Tag.Integer))
            pbkdf2.ReadInteger(); // optional key length
        var prf = pbkdf2.ReadSequence();
        Assert.Equal("1.2.840.113549.2.9", prf.ReadObjectIdentifier()); // hmacWithSHA256
        var cipher = pbes2.ReadSequence();
        Assert.Equal("2.16.840.1.101.3.4.1.42", cipher.ReadObjectIdentifier()); // aes256-CBC
        Assert.Equal(16, cipher.ReadOctetString().Length); // IV
        Assert.NotEmpty(info.ReadOctetString());
    }

    [Fact]
    public void Export_refuses_fewer_than_100000_iterations()
    {
        using var key = AccountKey.Generate();
        Assert.Throws<ArgumentOutOfRangeException>(() => AccountKey.ExportEncrypted(key, "pw", 99_999));
    }

    // The pkcs8 fuzz target's domain: the iteration count comes from the downloaded key file.
    // Without the bound this import ran for hours (PBKDF2 over 2^31 - 1 rounds).
    [Fact(Timeout = 20_000)]
    public async Task A_key_asking_for_more_than_the_most_iterations_is_refused_at_once()
    {
        var huge = WithIterations(Account.Base64("encrypted_private_key_pkcs8_b64"), int.MaxValue);
        Assert.False(await Task.Run(() => AccountKey.TryImportEncrypted(huge, Account.Text("password"), out _)));
    }

    [Fact]
    public void Keys_are_exported_with_at_most_the_most_iterations()
    {
        using var key = AccountKey.Generate();
        Assert.Throws<ArgumentOutOfRangeException>(() => AccountKey.ExportEncrypted(key, "pw", AccountKey.MaxIterations + 1));
    }

    [Fact]
    public void Garbage_is_refused_without_throwing()
    {
        Assert.False(AccountKey.TryImportEncrypted([], "pw", out _));
        Gen.Byte.Array[0, 300].Sample(garbage => Assert.False(AccountKey.TryImportEncrypted(garbage, "pw", out _)), iter: 500);
    }

    [Fact]
    public void Trailing_bytes_after_the_encrypted_key_are_refused()
    {
        using var key = AccountKey.Generate();
        var encrypted = AccountKey.ExportEncrypted(key, "pw");
        Assert.False(AccountKey.TryImportEncrypted([.. encrypted, 0], "pw", out _));
    }

    [Fact]
    public void Unencrypted_garbage_throws_a_cryptographic_exception()
    {
        Assert.Throws<CryptographicException>(() => AccountKey.ImportPrivateKey([1, 2, 3]));
        using var key = AccountKey.Generate();
        Assert.Throws<CryptographicException>(() => AccountKey.ImportPrivateKey([.. key.ExportPkcs8PrivateKey(), 0]));
    }

    [Fact]
    public void Unsupported_keys_are_refused()
    {
        using var dh = ECDiffieHellman.Create();
        Assert.Throws<ArgumentException>(() => AccountKey.ExportPublicKey(dh));
        Assert.Throws<ArgumentException>(() => AccountKey.ExportEncrypted(dh, "pw"));
    }
    // The same EncryptedPrivateKeyInfo with another PBKDF2 iteration count (RFC 8018 A.2).
    private static byte[] WithIterations(byte[] encryptedPkcs8, int iterations)
    {
        var info = new AsnReader(encryptedPkcs8, AsnEncodingRules.DER).ReadSequence();
        var algorithm = info.ReadSequence();
        var pbes2Oid = algorithm.ReadObjectIdentifier();
        var pbes2 = algorithm.ReadSequence();
        var derivation = pbes2.ReadSequence();
        var pbkdf2Oid = derivation.ReadObjectIdentifier();
        var parameters = derivation.ReadSequence();
        var salt = parameters.ReadOctetString();
        parameters.ReadInteger();
        var prf = parameters.ReadEncodedValue();
        var encryption = pbes2.ReadEncodedValue();
        var data = info.ReadOctetString();

        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(pbes2Oid);
                using (writer.PushSequence())
                {
                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier(pbkdf2Oid);
                        using (writer.PushSequence())
                        {
                            writer.WriteOctetString(salt);
                            writer.WriteInteger(iterations);
                            writer.WriteEncodedValue(prf.Span);
                        }
                    }
                    writer.WriteEncodedValue(encryption.Span);
                }
            }
            writer.WriteOctetString(data);
        }
        return writer.Encode();
    }
}
