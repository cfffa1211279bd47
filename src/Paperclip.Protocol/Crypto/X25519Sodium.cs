using System.Security.Cryptography;

namespace Paperclip.Protocol.Crypto;

/// <summary>
/// An X25519 key pair through libsodium's own functions (the native library of the libsodium
/// package). The private key lives in a pinned array, never moved by the GC and zeroed on
/// disposal: an ephemeral key lives for one handshake, and NSec's guarded allocations (mmap,
/// mprotect, mlock and their undoing per key) cost more system time than the scalar multiplication.
/// </summary>
internal sealed class X25519Sodium : IDisposable
{
    private const int KeySize = 32;
    private readonly byte[] _privateKey;

    private X25519Sodium(byte[] privateKey)
    {
        _privateKey = privateKey;
        PublicKey = new byte[KeySize];
        if (Sodium.crypto_scalarmult_curve25519_base(PublicKey, _privateKey) != 0)
            throw new CryptographicException("libsodium could not derive the X25519 public key.");
    }

    /// <summary>The raw 32-byte public key.</summary>
    public byte[] PublicKey { get; }

    public static X25519Sodium Create()
    {
        Sodium.EnsureInitialized();
        var privateKey = GC.AllocateUninitializedArray<byte>(KeySize, pinned: true);
        RandomNumberGenerator.Fill(privateKey);
        return new X25519Sodium(privateKey);
    }

    public static X25519Sodium Import(ReadOnlySpan<byte> privateKey32)
    {
        Sodium.EnsureInitialized();
        var privateKey = GC.AllocateUninitializedArray<byte>(KeySize, pinned: true);
        privateKey32.CopyTo(privateKey);
        return new X25519Sodium(privateKey);
    }

    /// <summary>Z with the peer's raw (bit-255-masked) key; false when Z is all zeros (a low-order point).</summary>
    public bool TryAgree(ReadOnlySpan<byte> peerKey32, Span<byte> sharedSecret)
    {
        Span<byte> z = stackalloc byte[KeySize];
        var agreed = Sodium.crypto_scalarmult_curve25519(z, _privateKey, peerKey32) == 0;
        if (agreed)
            z.CopyTo(sharedSecret);
        CryptographicOperations.ZeroMemory(z);
        return agreed;
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(_privateKey);
}
