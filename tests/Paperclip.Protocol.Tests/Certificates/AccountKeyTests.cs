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

    // Found by AFL++ (pkcs8 target): an EC PrivateKeyInfo naming a curve the platform does not
    // know (1.2.840.5693.3.1.7, P-256's OID mutated) made the import throw
    // PlatformNotSupportedException. The first 138 bytes of the crashing input (the rest was
    // trailing bytes the import never reached).
    private const string UnknownCurveKeyHex =
        "308187020100301306072a8648ce3d020106082a8648ac3d030107046d306b0201010420d8fcfb2be0804b42af3e3010"
        + "8df4c41ab366e540e40ee38ef7a3a2c7631c60dfa1440342000483808e4091c077ec098c30020100300d06092a864886"
        + "f70d0101010500048204a8308204a40201000282010100d764083a2fbb838c269a58901949715996c355";

    [Fact]
    public void A_server_key_on_a_curve_the_platform_lacks_throws_a_cryptographic_exception()
    {
        var exception = Record.Exception(() => AccountKey.ImportPrivateKey(Convert.FromHexString(UnknownCurveKeyHex)));
        Assert.IsType<CryptographicException>(exception);
    }

    [Fact]
    public void An_account_key_on_a_curve_the_platform_lacks_is_refused()
    {
        var encrypted = Encrypt(Convert.FromHexString(UnknownCurveKeyHex), "pw");
        Assert.False(AccountKey.TryImportEncrypted(encrypted, "pw", out _));
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
    // A PrivateKeyInfo encrypted as AccountKey exports keys (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC),
    // whatever it holds: the platform only encrypts keys it can load.
    private static byte[] Encrypt(byte[] privateKeyInfo, string password)
    {
        var salt = new byte[16];
        var iv = new byte[16];
        const int Iterations = 1000;
        var aesKey = Rfc2898DeriveBytes.Pbkdf2(password, salt, Iterations, HashAlgorithmName.SHA256, 32);
        using var aes = Aes.Create();
        aes.Key = aesKey;
        var data = aes.EncryptCbc(privateKeyInfo, iv);

        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier("1.2.840.113549.1.5.13"); // PBES2
                using (writer.PushSequence())
                {
                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier("1.2.840.113549.1.5.12"); // PBKDF2
                        using (writer.PushSequence())
                        {
                            writer.WriteOctetString(salt);
                            writer.WriteInteger(Iterations);
                            using (writer.PushSequence())
                            {
                                writer.WriteObjectIdentifier("1.2.840.113549.2.9"); // HMAC-SHA256
                                writer.WriteNull();
                            }
                        }
                    }
                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier("2.16.840.1.101.3.4.1.42"); // AES-256-CBC
                        writer.WriteOctetString(iv);
                    }
                }
            }
            writer.WriteOctetString(data);
        }
        return writer.Encode();
    }
}
