using System.Diagnostics.CodeAnalysis;
using System.Formats.Asn1;
using System.Security.Cryptography;

namespace Paperclip.Protocol.Crypto;

/// <summary>
/// The two signature schemes of the protocol (§5.2) and of its certificates: RSASSA-PKCS1-v1_5
/// with SHA-256 for RSA keys, ECDSA P-256 with SHA-256 and DER signatures for EC keys.
/// </summary>
internal static class Signatures
{
    // Bounds the cost of a verification a peer can make us do with its own key.
    private const int MinRsaKeySize = 2048;
    private const int MaxRsaKeySize = 4096;

    /// <summary>Signs <paramref name="data"/> with an RSA or ECDsa private key.</summary>
    public static byte[] Sign(AsymmetricAlgorithm key, ReadOnlySpan<byte> data) => key switch
    {
        RSA rsa => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        ECDsa ecdsa => ecdsa.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence),
        _ => throw UnsupportedKey(key),
    };

    /// <summary>The certificate signature algorithm (OID) that goes with <paramref name="key"/>.</summary>
    public static string CertificateAlgorithm(AsymmetricAlgorithm key) => key switch
    {
        RSA => Oids.Sha256WithRsaEncryption,
        ECDsa => Oids.EcdsaWithSha256,
        _ => throw UnsupportedKey(key),
    };

    /// <summary>
    /// Verifies <paramref name="signature"/> over <paramref name="data"/> with the public key
    /// <paramref name="subjectPublicKeyInfo"/>. When <paramref name="certificateAlgorithm"/> is
    /// given it must be the certificate signature algorithm of that key type.
    /// </summary>
    /// <returns>False, never an exception, for a malformed or unsupported key or a bad signature.</returns>
    public static bool Verify(ReadOnlySpan<byte> subjectPublicKeyInfo, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature, string? certificateAlgorithm = null)
    {
        if (!PublicKeyCache.TryGet(subjectPublicKeyInfo, out var cached))
            return false;
        var key = cached.Key;
        if (certificateAlgorithm is not null && certificateAlgorithm != CertificateAlgorithm(key))
            return false;
        lock (cached.Lock)
        {
            try
            {
                return key switch
                {
                    RSA rsa => rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
                    ECDsa ecdsa => ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence),
                    _ => false,
                };
            }
            catch (CryptographicException)
            {
                return false;
            }
        }
    }

    /// <summary>
    /// Imports an SPKI as RSA (2048–4096 bits) or ECDsa (P-256). False for anything else,
    /// trailing bytes included.
    /// </summary>
    public static bool TryImportPublicKey(ReadOnlySpan<byte> subjectPublicKeyInfo, [NotNullWhen(true)] out AsymmetricAlgorithm? key)
    {
        key = null;
        AsymmetricAlgorithm? candidate = null;
        if (!TryReadAlgorithmIdentifier(subjectPublicKeyInfo, privateKeyInfo: false, out var algorithm, out var parameters))
            return false;
        try
        {
            switch (algorithm)
            {
                case Oids.RsaEncryption:
                    var rsa = RSA.Create();
                    candidate = rsa;
                    rsa.ImportSubjectPublicKeyInfo(subjectPublicKeyInfo, out var rsaRead);
                    if (rsaRead != subjectPublicKeyInfo.Length || rsa.KeySize is < MinRsaKeySize or > MaxRsaKeySize)
                        break;
                    key = rsa;
                    break;
                case Oids.EcPublicKey:
                    if (!NamesP256(parameters))
                        break;
                    var ecdsa = ECDsa.Create();
                    candidate = ecdsa;
                    ecdsa.ImportSubjectPublicKeyInfo(subjectPublicKeyInfo, out var ecRead);
                    if (ecRead != subjectPublicKeyInfo.Length)
                        break;
                    key = ecdsa;
                    break;
            }
        }
        catch (Exception e) when (e is CryptographicException or AsnContentException)
        {
        }
        if (key is null)
            candidate?.Dispose();
        return key is not null;
    }

    /// <summary>The algorithm OID of an SPKI or a PKCS#8 PrivateKeyInfo, read without importing the key.</summary>
    public static string? ReadAlgorithm(ReadOnlySpan<byte> encoded, bool privateKeyInfo = false) =>
        TryReadAlgorithmIdentifier(encoded, privateKeyInfo, out var algorithm, out _) ? algorithm : null;

    /// <summary>
    /// True when an SPKI declares an EC key on the named curve P-256. Read from the DER rather than
    /// asked of the imported key: exporting the parameters costs as much as a hash of the key.
    /// </summary>
    public static bool IsNamedP256(ReadOnlySpan<byte> subjectPublicKeyInfo) =>
        TryReadAlgorithmIdentifier(subjectPublicKeyInfo, privateKeyInfo: false, out var algorithm, out var parameters)
        && algorithm == Oids.EcPublicKey && NamesP256(parameters);

    // The parameters of an EC AlgorithmIdentifier: exactly the named curve P-256.
    private static bool NamesP256(ReadOnlySpan<byte> parameters)
    {
        try
        {
            return AsnDecoder.ReadObjectIdentifier(parameters, AsnEncodingRules.DER, out var read) == Oids.NistP256 && read == parameters.Length;
        }
        catch (AsnContentException)
        {
            return false;
        }
    }

    private static bool TryReadAlgorithmIdentifier(ReadOnlySpan<byte> encoded, bool privateKeyInfo, [NotNullWhen(true)] out string? algorithm, out ReadOnlySpan<byte> parameters)
    {
        algorithm = null;
        parameters = default;
        try
        {
            AsnDecoder.ReadSequence(encoded, AsnEncodingRules.DER, out var offset, out var length, out _);
            var contents = encoded.Slice(offset, length);
            if (privateKeyInfo)
            {
                AsnDecoder.ReadEncodedValue(contents, AsnEncodingRules.DER, out _, out _, out var versionLength);
                contents = contents[versionLength..];
            }
            AsnDecoder.ReadSequence(contents, AsnEncodingRules.DER, out offset, out length, out _);
            var identifier = contents.Slice(offset, length);
            algorithm = AsnDecoder.ReadObjectIdentifier(identifier, AsnEncodingRules.DER, out var oidLength);
            parameters = identifier[oidLength..];
            return true;
        }
        catch (AsnContentException)
        {
            return false;
        }
    }

    private static ArgumentException UnsupportedKey(AsymmetricAlgorithm key) =>
        new($"Only RSA and ECDsa keys are supported, not {key.GetType().Name}.", nameof(key));
}
