using System.Runtime.InteropServices;

namespace Paperclip.Protocol.Crypto;

/// <summary>
/// The few libsodium functions Paperclip calls — AES-256-GCM with a precomputed key state, and
/// X25519 — from the native library that the <c>libsodium</c> package ships.
/// </summary>
internal static unsafe partial class Sodium
{
    private const string Library = "libsodium";

    /// <summary>True when libsodium loaded and this processor has the AES and carry-less multiply instructions its AES-GCM needs.</summary>
    public static bool IsAes256GcmAvailable { get; } = Probe();

    /// <summary>Bytes of a <c>crypto_aead_aes256gcm_state</c>.</summary>
    public static nuint StateSize { get; } = IsAes256GcmAvailable ? crypto_aead_aes256gcm_statebytes() : 0;

    /// <summary>Initialises libsodium (idempotent and thread-safe); throws when it cannot be used.</summary>
    public static void EnsureInitialized()
    {
        // 0: initialised now, 1: already; -1: the library cannot be used.
        if (sodium_init() < 0)
            throw new System.Security.Cryptography.CryptographicException("libsodium could not be initialised.");
    }

    [LibraryImport(Library)]
    private static partial int sodium_init();

    [LibraryImport(Library)]
    private static partial int crypto_aead_aes256gcm_is_available();

    [LibraryImport(Library)]
    private static partial nuint crypto_aead_aes256gcm_statebytes();

    [LibraryImport(Library)]
    public static partial int crypto_aead_aes256gcm_beforenm(void* state, byte* key);

    [LibraryImport(Library)]
    public static partial int crypto_aead_aes256gcm_encrypt_detached_afternm(byte* c, byte* mac, ulong* macLength, byte* m, ulong messageLength,
        byte* ad, ulong adLength, byte* nsec, byte* nonce, void* state);

    [LibraryImport(Library)]
    public static partial int crypto_aead_aes256gcm_decrypt_detached_afternm(byte* m, byte* nsec, byte* c, ulong cipherLength, byte* mac,
        byte* ad, ulong adLength, byte* nonce, void* state);

    [LibraryImport(Library)]
    public static partial int crypto_scalarmult_curve25519(Span<byte> q, ReadOnlySpan<byte> n, ReadOnlySpan<byte> p);

    [LibraryImport(Library)]
    public static partial int crypto_scalarmult_curve25519_base(Span<byte> q, ReadOnlySpan<byte> n);

    private static bool Probe()
    {
        try
        {
            EnsureInitialized();
            return crypto_aead_aes256gcm_is_available() == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or System.Security.Cryptography.CryptographicException)
        {
            return false; // no libsodium for this platform: .NET's AesGcm does the work
        }
    }
}
