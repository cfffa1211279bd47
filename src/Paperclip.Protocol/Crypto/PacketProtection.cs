using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Paperclip.Protocol.Crypto;

/// <summary>Which implementation of AES-256-GCM seals and opens datagrams.</summary>
public enum AeadBackend
{
    /// <summary>libsodium's, with the key schedule computed once per direction: about a fifth of .NET's cost per datagram. Needs AES-NI and PCLMUL.</summary>
    Sodium,
    /// <summary>.NET's <see cref="AesGcm"/> (OpenSSL on Linux): every platform and processor, but a fixed cost of about a microsecond per call.</summary>
    DotNet,
}

/// <summary>
/// AES-256-GCM protection of one direction of a session (protocol §6.3): seals and opens
/// datagrams in place, with the header as associated data and the nonce made from the packet
/// number. Both backends give the same bytes (the vectors prove it). Allocates nothing per call.
/// Not thread safe: one instance per direction and thread.
/// </summary>
public sealed unsafe class PacketProtection : IDisposable
{
    /// <summary>Bytes of the AES-256 key.</summary>
    public const int KeySize = 32;

    /// <summary>Bytes of the IV (and of the nonce).</summary>
    public const int IvSize = 12;

    private const int StateAlignment = 16;

    private readonly AesGcm? _aes;
    // libsodium's expanded key and GHASH powers, 16-byte aligned, in native memory: no guard pages
    // per key (NSec's keys take several memory mappings each, and 10,000 sessions would exhaust
    // the kernel's map count), zeroed when disposed.
    private void* _state;
    private readonly byte[] _iv;
    private bool _disposed;

    /// <summary>Creates the protection for one direction, on libsodium where the processor allows it.</summary>
    /// <param name="key">The 32-byte direction key.</param>
    /// <param name="iv">The 12-byte direction IV.</param>
    public PacketProtection(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv)
        : this(key, iv, DefaultBackend)
    {
    }

    /// <summary>Creates the protection for one direction on <paramref name="backend"/>.</summary>
    /// <exception cref="PlatformNotSupportedException">libsodium asked for where it is not available.</exception>
    public PacketProtection(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, AeadBackend backend)
    {
        if (key.Length != KeySize)
            throw new ArgumentException($"The key must be {KeySize} bytes.", nameof(key));
        if (iv.Length != IvSize)
            throw new ArgumentException($"The IV must be {IvSize} bytes.", nameof(iv));
        if (backend == AeadBackend.Sodium)
        {
            if (!Sodium.IsAes256GcmAvailable)
                throw new PlatformNotSupportedException("libsodium's AES-256-GCM needs AES-NI and PCLMUL, and libsodium for this platform.");
            _state = NativeMemory.AlignedAlloc(Sodium.StateSize, StateAlignment);
            fixed (byte* k = key)
            {
                if (Sodium.crypto_aead_aes256gcm_beforenm(_state, k) != 0)
                    throw new CryptographicException("libsodium refused the AES-256-GCM key.");
            }
        }
        else
        {
            _aes = new AesGcm(key, ProtocolConstants.TagSize);
        }
        Backend = backend;
        // Pinned so that the GC never leaves copies of the IV behind when compacting.
        _iv = GC.AllocateArray<byte>(IvSize, pinned: true);
        iv.CopyTo(_iv);
    }

    /// <summary>
    /// What new instances use: libsodium when it runs here, else .NET's. The environment variable
    /// <c>PAPERCLIP_AEAD=dotnet</c> forces .NET's for a whole process.
    /// </summary>
    public static AeadBackend DefaultBackend { get; } =
        Sodium.IsAes256GcmAvailable && !string.Equals(Environment.GetEnvironmentVariable("PAPERCLIP_AEAD"), "dotnet", StringComparison.OrdinalIgnoreCase)
            ? AeadBackend.Sodium
            : AeadBackend.DotNet;

    /// <summary>The implementation this instance uses.</summary>
    public AeadBackend Backend { get; }

    /// <summary>
    /// Encrypts <c>datagram[headerLength..(headerLength + plaintextLength)]</c> in place, with
    /// <c>datagram[..headerLength]</c> (PN included) as associated data, and writes the tag after it.
    /// </summary>
    /// <returns>The sealed datagram's length: header, ciphertext and tag.</returns>
    public int Seal(Span<byte> datagram, int headerLength, int plaintextLength, ulong packetNumber)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(headerLength);
        ArgumentOutOfRangeException.ThrowIfNegative(plaintextLength);
        var total = headerLength + plaintextLength + ProtocolConstants.TagSize;
        if ((uint)total > (uint)datagram.Length)
            throw new ArgumentException("The datagram has no room for the data and the tag.", nameof(datagram));

        Span<byte> nonce = stackalloc byte[IvSize];
        MakeNonce(packetNumber, nonce);
        var data = datagram.Slice(headerLength, plaintextLength);
        var tag = datagram.Slice(headerLength + plaintextLength, ProtocolConstants.TagSize);
        if (_aes is not null)
        {
            _aes.Encrypt(nonce, data, data, tag, datagram[..headerLength]);
            return total;
        }
        fixed (byte* d = datagram)
        fixed (byte* n = nonce)
        {
            ulong tagLength;
            var m = d + headerLength;
            if (Sodium.crypto_aead_aes256gcm_encrypt_detached_afternm(m, m + plaintextLength, &tagLength, m, (ulong)plaintextLength, d, (ulong)headerLength, null, n, _state) != 0)
                throw new CryptographicException("libsodium could not seal the datagram.");
        }
        return total;
    }

    /// <summary>
    /// Decrypts <paramref name="datagram"/> (header, ciphertext, tag) in place. The plaintext is
    /// left at <c>datagram[headerLength..(headerLength + plaintextLength)]</c>.
    /// </summary>
    /// <returns>
    /// False, without throwing, when the datagram is too short or the tag does not verify (checked
    /// in constant time); the datagram's DATA is then garbage (libsodium clears it).
    /// </returns>
    public bool TryOpen(Span<byte> datagram, int headerLength, ulong packetNumber, out int plaintextLength)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        plaintextLength = datagram.Length - headerLength - ProtocolConstants.TagSize;
        if (headerLength < 0 || plaintextLength < 0)
        {
            plaintextLength = 0;
            return false;
        }

        Span<byte> nonce = stackalloc byte[IvSize];
        MakeNonce(packetNumber, nonce);
        var data = datagram.Slice(headerLength, plaintextLength);
        if (_aes is not null)
        {
            try
            {
                _aes.Decrypt(nonce, data, datagram.Slice(headerLength + plaintextLength, ProtocolConstants.TagSize), data, datagram[..headerLength]);
                return true;
            }
            catch (AuthenticationTagMismatchException)
            {
                // AesGcm has no non-throwing open; forgeries are rare enough that the throw is acceptable.
                plaintextLength = 0;
                return false;
            }
        }
        int result;
        fixed (byte* d = datagram)
        fixed (byte* n = nonce)
        {
            var c = d + headerLength;
            // On failure libsodium clears what it decrypted: a forgery's bytes are never left as plaintext.
            result = Sodium.crypto_aead_aes256gcm_decrypt_detached_afternm(c, null, c, (ulong)plaintextLength, c + plaintextLength, d, (ulong)headerLength, n, _state);
        }
        if (result == 0)
            return true;
        plaintextLength = 0;
        return false;
    }

    /// <summary>Frees the cipher and zeroes the key state and the IV.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        // AesGcm keeps the key only inside its native context, which it frees (and clears) here.
        _aes?.Dispose();
        if (_state is not null)
        {
            NativeMemory.Clear(_state, Sodium.StateSize);
            NativeMemory.AlignedFree(_state);
            _state = null;
        }
        CryptographicOperations.ZeroMemory(_iv);
    }

    // nonce = iv XOR (0x00000000 || PN as 8 bytes big-endian).
    private void MakeNonce(ulong packetNumber, Span<byte> nonce)
    {
        _iv.CopyTo(nonce);
        var low = nonce[4..];
        BinaryPrimitives.WriteUInt64BigEndian(low, BinaryPrimitives.ReadUInt64BigEndian(low) ^ packetNumber);
    }
}
