using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Paperclip.Protocol.Crypto;

/// <summary>
/// AES-256-GCM protection of one direction of a session (protocol §6.3): seals and opens
/// datagrams in place, with the header as associated data and the nonce made from the packet
/// number. Allocates nothing per call. Not thread safe: one instance per direction and thread.
/// </summary>
public sealed class PacketProtection : IDisposable
{
    /// <summary>Bytes of the AES-256 key.</summary>
    public const int KeySize = 32;

    /// <summary>Bytes of the IV (and of the nonce).</summary>
    public const int IvSize = 12;

    private readonly AesGcm _aes;
    private readonly byte[] _iv;
    private bool _disposed;

    /// <summary>Creates the protection for one direction.</summary>
    /// <param name="key">The 32-byte direction key.</param>
    /// <param name="iv">The 12-byte direction IV.</param>
    public PacketProtection(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv)
    {
        if (key.Length != KeySize)
            throw new ArgumentException($"The key must be {KeySize} bytes.", nameof(key));
        if (iv.Length != IvSize)
            throw new ArgumentException($"The IV must be {IvSize} bytes.", nameof(iv));
        _aes = new AesGcm(key, ProtocolConstants.TagSize);
        // Pinned so that the GC never leaves copies of the IV behind when compacting.
        _iv = GC.AllocateArray<byte>(IvSize, pinned: true);
        iv.CopyTo(_iv);
    }

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
        _aes.Encrypt(nonce, data, data, datagram.Slice(headerLength + plaintextLength, ProtocolConstants.TagSize), datagram[..headerLength]);
        return total;
    }

    /// <summary>
    /// Decrypts <paramref name="datagram"/> (header, ciphertext, tag) in place. The plaintext is
    /// left at <c>datagram[headerLength..(headerLength + plaintextLength)]</c>.
    /// </summary>
    /// <returns>False, without throwing, when the datagram is too short or the tag does not verify.</returns>
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

    /// <summary>Frees the cipher and zeroes the IV.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        // AesGcm keeps the key only inside its native context, which it frees (and clears) here.
        _aes.Dispose();
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
