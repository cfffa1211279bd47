#if !NET9_0_OR_GREATER
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Paperclip.Protocol.Crypto;

/// <summary>
/// An X25519 key pair through libsodium's own functions, for .NET 8, where NSec (which needs
/// .NET 9) is not available; the native library is the same one NSec uses (the libsodium package).
/// </summary>
internal sealed partial class X25519Sodium : IDisposable
{
    private const int KeySize = 32;
    private readonly byte[] _privateKey;

    private X25519Sodium(byte[] privateKey)
    {
        _privateKey = privateKey;
        PublicKey = new byte[KeySize];
        if (crypto_scalarmult_curve25519_base(PublicKey, _privateKey) != 0)
            throw new CryptographicException("libsodium could not derive the X25519 public key.");
    }

    /// <summary>The raw 32-byte public key.</summary>
    public byte[] PublicKey { get; }

    public static X25519Sodium Create()
    {
        EnsureInitialized();
        return new X25519Sodium(RandomNumberGenerator.GetBytes(KeySize));
    }

    public static X25519Sodium Import(ReadOnlySpan<byte> privateKey32)
    {
        EnsureInitialized();
        return new X25519Sodium(privateKey32.ToArray());
    }

    /// <summary>Z with the peer's raw (bit-255-masked) key; false when Z is all zeros (a low-order point).</summary>
    public bool TryAgree(ReadOnlySpan<byte> peerKey32, Span<byte> sharedSecret)
    {
        Span<byte> z = stackalloc byte[KeySize];
        var agreed = crypto_scalarmult_curve25519(z, _privateKey, peerKey32) == 0;
        if (agreed)
            z.CopyTo(sharedSecret);
        CryptographicOperations.ZeroMemory(z);
        return agreed;
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(_privateKey);

    private static void EnsureInitialized()
    {
        // 0: initialised now, 1: already; -1: the library cannot be used.
        if (sodium_init() < 0)
            throw new CryptographicException("libsodium could not be initialised.");
    }

    [LibraryImport("libsodium")]
    private static partial int sodium_init();

    [LibraryImport("libsodium")]
    private static partial int crypto_scalarmult_curve25519(Span<byte> q, ReadOnlySpan<byte> n, ReadOnlySpan<byte> p);

    [LibraryImport("libsodium")]
    private static partial int crypto_scalarmult_curve25519_base(Span<byte> q, ReadOnlySpan<byte> n);
}
#endif
