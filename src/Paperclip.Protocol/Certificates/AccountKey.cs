using System.Diagnostics.CodeAnalysis;
using System.Formats.Asn1;
using System.Security.Cryptography;
using Paperclip.Protocol.Crypto;

namespace Paperclip.Protocol.Certificates;

/// <summary>
/// Account and server key pairs and their storage formats (api.md): public keys as
/// SubjectPublicKeyInfo DER, private keys as PKCS#8 EncryptedPrivateKeyInfo DER (PBES2,
/// AES-256-CBC, PBKDF2-HMAC-SHA256).
/// </summary>
public static class AccountKey
{
    /// <summary>The fewest PBKDF2 iterations an exported private key may use.</summary>
    public const int MinIterations = 100_000;

    /// <summary>
    /// The most PBKDF2 iterations a key may use. The count is read from the key file, which a
    /// client downloads: without a bound a key with 2³¹ − 1 iterations would keep the import
    /// busy for hours (one million take seconds).
    /// </summary>
    public const int MaxIterations = 5_000_000;

    /// <summary>Makes a new key pair: <see cref="ECDsa"/> for P-256, <see cref="RSA"/> for RSA-2048.</summary>
    public static AsymmetricAlgorithm Generate(KeyAlgorithm algorithm = KeyAlgorithm.EcdsaP256) => algorithm switch
    {
        KeyAlgorithm.EcdsaP256 => ECDsa.Create(ECCurve.NamedCurves.nistP256),
        KeyAlgorithm.Rsa2048 => RSA.Create(2048),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Unknown key algorithm."),
    };

    /// <summary>The public key as SubjectPublicKeyInfo DER.</summary>
    public static byte[] ExportPublicKey(AsymmetricAlgorithm key) => RequireSupported(key).ExportSubjectPublicKeyInfo();

    /// <summary>
    /// The private key as PKCS#8 EncryptedPrivateKeyInfo DER: PBES2 with AES-256-CBC and
    /// PBKDF2-HMAC-SHA256 over <paramref name="iterations"/> rounds (<see cref="MinIterations"/> to
    /// <see cref="MaxIterations"/>).
    /// </summary>
    public static byte[] ExportEncrypted(AsymmetricAlgorithm key, ReadOnlySpan<char> password, int iterations = MinIterations)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, MinIterations);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(iterations, MaxIterations);
        var parameters = new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, iterations);
        return RequireSupported(key).ExportEncryptedPkcs8PrivateKey(password, parameters);
    }

    /// <summary>
    /// Decrypts a PKCS#8 EncryptedPrivateKeyInfo holding an RSA or EC key, encrypted with PBES2
    /// and PBKDF2 of at most <see cref="MaxIterations"/> iterations.
    /// </summary>
    /// <returns>False, never an exception, for a wrong password or anything that is not such a key.</returns>
    public static bool TryImportEncrypted(ReadOnlySpan<byte> encryptedPkcs8, ReadOnlySpan<char> password, [NotNullWhen(true)] out AsymmetricAlgorithm? key)
    {
        key = null;
        if (ReadPbkdf2Iterations(encryptedPkcs8) is not (>= 1 and <= MaxIterations))
            return false;
        // The algorithm is only visible after decryption, so try the default (EC) first, then RSA.
        key = TryImportEncrypted(ECDsa.Create(), encryptedPkcs8, password)
            ?? TryImportEncrypted(RSA.Create(), encryptedPkcs8, password);
        return key is not null;
    }

    /// <summary>Imports an unencrypted PKCS#8 PrivateKeyInfo holding an RSA or EC key (a server key file).</summary>
    /// <exception cref="CryptographicException">The data is not such a key.</exception>
    public static AsymmetricAlgorithm ImportPrivateKey(ReadOnlySpan<byte> pkcs8)
    {
        AsymmetricAlgorithm key = Signatures.ReadAlgorithm(pkcs8, privateKeyInfo: true) switch
        {
            Oids.RsaEncryption => RSA.Create(),
            Oids.EcPublicKey => ECDsa.Create(),
            _ => throw new CryptographicException("Not a PKCS#8 RSA or EC private key."),
        };
        try
        {
            key.ImportPkcs8PrivateKey(pkcs8, out var read);
            if (read != pkcs8.Length)
                throw new CryptographicException("Trailing data after the PKCS#8 private key.");
            return key;
        }
        catch (PlatformNotSupportedException e)
        {
            // An EC key on a named curve the platform does not know.
            key.Dispose();
            throw new CryptographicException("The PKCS#8 private key's curve is not supported.", e);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    private static AsymmetricAlgorithm? TryImportEncrypted(AsymmetricAlgorithm key, ReadOnlySpan<byte> encryptedPkcs8, ReadOnlySpan<char> password)
    {
        try
        {
            key.ImportEncryptedPkcs8PrivateKey(password, encryptedPkcs8, out var read);
            if (read == encryptedPkcs8.Length)
                return key;
        }
        catch (Exception e) when (e is CryptographicException or PlatformNotSupportedException)
        {
            // A wrong password, another key algorithm, an EC curve the platform lacks, or garbage.
        }
        key.Dispose();
        return null;
    }

    // EncryptedPrivateKeyInfo ::= SEQUENCE { AlgorithmIdentifier { PBES2, PBES2-params { keyDerivationFunc
    // { PBKDF2, PBKDF2-params { salt, iterationCount, ... } }, ... } }, encryptedData } (RFC 5958, RFC 8018).
    // Null for another scheme or anything malformed; the import checks the rest.
    private static int? ReadPbkdf2Iterations(ReadOnlySpan<byte> encryptedPkcs8)
    {
        try
        {
            var algorithm = new AsnReader(encryptedPkcs8.ToArray(), AsnEncodingRules.DER).ReadSequence().ReadSequence();
            if (algorithm.ReadObjectIdentifier() != Oids.Pbes2)
                return null;
            var derivation = algorithm.ReadSequence().ReadSequence();
            if (derivation.ReadObjectIdentifier() != Oids.Pbkdf2)
                return null;
            var parameters = derivation.ReadSequence();
            parameters.ReadOctetString();
            return parameters.TryReadInt32(out var iterations) ? iterations : null;
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    private static AsymmetricAlgorithm RequireSupported(AsymmetricAlgorithm key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key is RSA or ECDsa ? key : throw new ArgumentException($"Only RSA and ECDsa keys are supported, not {key.GetType().Name}.", nameof(key));
    }
}
