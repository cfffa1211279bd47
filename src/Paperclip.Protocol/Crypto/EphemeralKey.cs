using System.Security.Cryptography;

namespace Paperclip.Protocol.Crypto;

/// <summary>The ephemeral key algorithms of the handshake (protocol §6.1).</summary>
public enum KeyAgreement
{
    /// <summary>ECDH on P-256, every version; KEY is an uncompressed point (91 bytes of SPKI).</summary>
    P256,
    /// <summary>X25519 (RFC 7748), version 2 only; KEY is the RFC 8410 SPKI (44 bytes). Cheaper than P-256.</summary>
    X25519,
}

/// <summary>
/// A fresh key pair for one handshake (protocol §6.1): P-256 through OpenSSL's libcrypto where it
/// is OpenSSL 3 (Linux), through .NET's ECDiffieHellman elsewhere; X25519 through libsodium.
/// </summary>
public sealed class EphemeralKey : IDisposable
{
    /// <summary>Bytes of the shared secret Z.</summary>
    public const int SharedSecretSize = 32;

    private const int ScalarSize = 32;

    // SubjectPublicKeyInfo prefixes: id-ecPublicKey + prime256v1 + BIT STRING of an uncompressed point,
    // and id-X25519 (no parameters) + BIT STRING of 32 bytes.
    private static ReadOnlySpan<byte> P256Prefix => [0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04];
    private static ReadOnlySpan<byte> X25519Prefix => [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00];
    private const int P256KeySize = 91;
    private const int X25519KeySize = 44;

    private readonly P256LibCrypto? _p256Native;
    private readonly ECDiffieHellman? _p256;
    private readonly X25519Sodium? _x25519;

    private EphemeralKey(P256LibCrypto key)
    {
        _p256Native = key;
        Algorithm = KeyAgreement.P256;
        // The SPKI prefix ends with the uncompressed point's 0x04, which the point's encoding repeats.
        var publicKey = new byte[P256KeySize];
        P256Prefix[..^1].CopyTo(publicKey);
        try
        {
            key.WritePublicPoint(publicKey.AsSpan(P256Prefix.Length - 1));
        }
        catch
        {
            key.Dispose();
            throw;
        }
        PublicKey = publicKey;
    }

    private EphemeralKey(ECDiffieHellman key)
    {
        _p256 = key;
        Algorithm = KeyAgreement.P256;
        PublicKey = key.ExportSubjectPublicKeyInfo();
    }

    private EphemeralKey(X25519Sodium key)
    {
        _x25519 = key;
        Algorithm = KeyAgreement.X25519;
        PublicKey = [.. X25519Prefix, .. key.PublicKey];
    }

    /// <summary>Which algorithm the key pair is of.</summary>
    public KeyAgreement Algorithm { get; }

    /// <summary>The public key as SubjectPublicKeyInfo DER: the KEY field of AUTH.</summary>
    public byte[] PublicKey { get; }

    /// <summary>Makes a new random key pair.</summary>
    public static EphemeralKey Generate(KeyAgreement algorithm = KeyAgreement.P256) => Generate(algorithm, LibCrypto.Shared);

    /// <summary>
    /// Makes a new random key pair, P-256 keys through <paramref name="libCrypto"/> or, when it is
    /// null, through .NET (tests force that fallback here).
    /// </summary>
    internal static EphemeralKey Generate(KeyAgreement algorithm, LibCrypto? libCrypto) => algorithm switch
    {
        KeyAgreement.P256 when libCrypto is not null => new(P256LibCrypto.Generate(libCrypto)),
        KeyAgreement.P256 => new(ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256)),
        KeyAgreement.X25519 => new(X25519Sodium.Create()),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    /// <summary>Rebuilds a P-256 key pair from its 32-byte private scalar (for test vectors).</summary>
    public static EphemeralKey FromPrivateScalar(ReadOnlySpan<byte> scalar32) => FromPrivateScalar(scalar32, LibCrypto.Shared);

    /// <summary>The same through <paramref name="libCrypto"/>, or through .NET when it is null.</summary>
    internal static EphemeralKey FromPrivateScalar(ReadOnlySpan<byte> scalar32, LibCrypto? libCrypto)
    {
        if (scalar32.Length != ScalarSize)
            throw new ArgumentException($"A P-256 private scalar is {ScalarSize} bytes.", nameof(scalar32));
        if (libCrypto is not null)
            return new(P256LibCrypto.Import(libCrypto, scalar32));
        var d = scalar32.ToArray();
        var key = ECDiffieHellman.Create();
        try
        {
            // Without Q the platform derives the public point from D.
            key.ImportParameters(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = d });
            return new EphemeralKey(key);
        }
        catch
        {
            key.Dispose();
            throw;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(d);
        }
    }

    /// <summary>Rebuilds an X25519 key pair from its 32-byte private key (for test vectors).</summary>
    public static EphemeralKey FromX25519PrivateKey(ReadOnlySpan<byte> privateKey32)
    {
        if (privateKey32.Length != ScalarSize)
            throw new ArgumentException($"An X25519 private key is {ScalarSize} bytes.", nameof(privateKey32));
        return new(X25519Sodium.Import(privateKey32));
    }

    /// <summary>
    /// The algorithm of a KEY field, when it is exactly one of the two forms of §6.1 (a P-256 key
    /// must be an uncompressed point; whether it lies on the curve is checked when deriving).
    /// </summary>
    public static bool TryIdentify(ReadOnlySpan<byte> subjectPublicKeyInfo, out KeyAgreement algorithm)
    {
        if (subjectPublicKeyInfo.Length == P256KeySize && subjectPublicKeyInfo.StartsWith(P256Prefix))
        {
            algorithm = KeyAgreement.P256;
            return true;
        }
        algorithm = KeyAgreement.X25519;
        return subjectPublicKeyInfo.Length == X25519KeySize && subjectPublicKeyInfo.StartsWith(X25519Prefix);
    }

    /// <summary>
    /// Key agreement with the peer's public key (SubjectPublicKeyInfo DER, of this key's algorithm):
    /// writes the 32-byte shared secret Z.
    /// </summary>
    /// <returns>
    /// False, never an exception, for a KEY not of this algorithm's form of §6.1, a P-256 point off
    /// the curve, or an X25519 agreement that gives all zeros.
    /// </returns>
    public bool TryDeriveSharedSecret(ReadOnlySpan<byte> peerPublicKey, Span<byte> sharedSecret)
    {
        if (sharedSecret.Length < SharedSecretSize)
            throw new ArgumentException($"The destination must hold {SharedSecretSize} bytes.", nameof(sharedSecret));
        if (!TryIdentify(peerPublicKey, out var algorithm) || algorithm != Algorithm)
            return false;
        if (_x25519 is not null)
            return TryAgreeX25519(peerPublicKey[X25519Prefix.Length..], sharedSecret);
        return _p256Native is not null
            ? _p256Native.TryAgree(peerPublicKey[(P256Prefix.Length - 1)..], sharedSecret)
            : TryAgreeP256DotNet(peerPublicKey, sharedSecret);
    }

    /// <summary>Frees the key pair.</summary>
    public void Dispose()
    {
        _p256Native?.Dispose();
        _p256?.Dispose();
        _x25519?.Dispose();
    }

    private bool TryAgreeP256DotNet(ReadOnlySpan<byte> peerPublicKey, Span<byte> sharedSecret)
    {
        using var peer = ECDiffieHellman.Create();
        byte[]? z = null;
        try
        {
            peer.ImportSubjectPublicKeyInfo(peerPublicKey, out var read);
            if (read != peerPublicKey.Length)
                return false;
            using var peerKey = peer.PublicKey;
            z = _p256!.DeriveRawSecretAgreement(peerKey);
            if (z.Length != SharedSecretSize)
                return false;
            z.CopyTo(sharedSecret);
            return true;
        }
        catch (CryptographicException)
        {
            // A point off the curve.
            return false;
        }
        finally
        {
            if (z is not null)
                CryptographicOperations.ZeroMemory(z);
        }
    }

    private bool TryAgreeX25519(ReadOnlySpan<byte> peerKey32, Span<byte> sharedSecret)
    {
        // RFC 7748: the receiver masks bit 255 of the u-coordinate.
        Span<byte> masked = stackalloc byte[ScalarSize];
        peerKey32.CopyTo(masked);
        masked[^1] &= 0x7F;
        // False when Z is all zeros (a low-order point): CONNECTION / CONNECTION.
        return _x25519!.TryAgree(masked, sharedSecret);
    }
}
