using System.Security.Cryptography;

namespace Paperclip.Protocol.Crypto;

/// <summary>
/// The keys of one session (protocol §6.1–§6.2): the transcript hash TH, the per-direction keys
/// and IVs and the Finished key derived with HKDF-SHA256, and the Finished MACs. Every secret is
/// zeroed on <see cref="Dispose"/>.
/// </summary>
public sealed class SessionKeys : IDisposable
{
    /// <summary>Bytes of a Finished MAC (SF or CF).</summary>
    public const int FinishedSize = 32;

    /// <summary>Bytes of the transcript hash TH.</summary>
    public const int TranscriptHashSize = 32;

    private const int KeySize = PacketProtection.KeySize;
    private const int IvSize = PacketProtection.IvSize;

    // Layout of _secrets: k_c2s, k_s2c, iv_c2s, iv_s2c, k_fin, TH.
    private const int ClientKeyOffset = 0;
    private const int ServerKeyOffset = ClientKeyOffset + KeySize;
    private const int ClientIvOffset = ServerKeyOffset + KeySize;
    private const int ServerIvOffset = ClientIvOffset + IvSize;
    private const int FinishedKeyOffset = ServerIvOffset + IvSize;
    private const int TranscriptOffset = FinishedKeyOffset + KeySize;
    private const int SecretsSize = TranscriptOffset + TranscriptHashSize;

    private static ReadOnlySpan<byte> ClientKeyLabel => "paperclip v1 key c2s"u8;
    private static ReadOnlySpan<byte> ServerKeyLabel => "paperclip v1 key s2c"u8;
    private static ReadOnlySpan<byte> ClientIvLabel => "paperclip v1 iv c2s"u8;
    private static ReadOnlySpan<byte> ServerIvLabel => "paperclip v1 iv s2c"u8;
    private static ReadOnlySpan<byte> FinishedLabel => "paperclip v1 finished"u8;
    private static ReadOnlySpan<byte> ServerFinishedLabel => "server finished"u8;
    private static ReadOnlySpan<byte> ClientFinishedLabel => "client finished"u8;

    private readonly byte[] _secrets;
    private bool _disposed;

    private SessionKeys(byte[] secrets) => _secrets = secrets;

    /// <summary>The key that protects what the client sends.</summary>
    public ReadOnlySpan<byte> ClientToServerKey => Secret(ClientKeyOffset, KeySize);

    /// <summary>The key that protects what the server sends.</summary>
    public ReadOnlySpan<byte> ServerToClientKey => Secret(ServerKeyOffset, KeySize);

    /// <summary>The IV of what the client sends.</summary>
    public ReadOnlySpan<byte> ClientToServerIv => Secret(ClientIvOffset, IvSize);

    /// <summary>The IV of what the server sends.</summary>
    public ReadOnlySpan<byte> ServerToClientIv => Secret(ServerIvOffset, IvSize);

    /// <summary>The key of the Finished MACs.</summary>
    public ReadOnlySpan<byte> FinishedKey => Secret(FinishedKeyOffset, KeySize);

    /// <summary>The transcript hash the keys are bound to.</summary>
    public ReadOnlySpan<byte> TranscriptHash => Secret(TranscriptOffset, TranscriptHashSize);

    /// <summary>TH = SHA-256(client AUTH datagram || server AUTH datagram), the datagrams exactly as sent.</summary>
    public static void ComputeTranscriptHash(ReadOnlySpan<byte> clientAuthDatagram, ReadOnlySpan<byte> serverAuthDatagram, Span<byte> transcriptHash)
    {
        if (transcriptHash.Length < TranscriptHashSize)
            throw new ArgumentException($"The destination must hold {TranscriptHashSize} bytes.", nameof(transcriptHash));
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(clientAuthDatagram);
        hash.AppendData(serverAuthDatagram);
        hash.GetHashAndReset(transcriptHash);
    }

    /// <summary>Runs the key schedule: PRK = HKDF-Extract(salt = TH, IKM = Z), then the expansions of §6.2.</summary>
    /// <param name="sharedSecret">Z, the 32-byte ECDH shared secret.</param>
    /// <param name="transcriptHash">TH, 32 bytes.</param>
    public static SessionKeys Derive(ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> transcriptHash)
    {
        if (sharedSecret.Length != EphemeralKey.SharedSecretSize)
            throw new ArgumentException($"The shared secret is {EphemeralKey.SharedSecretSize} bytes.", nameof(sharedSecret));
        if (transcriptHash.Length != TranscriptHashSize)
            throw new ArgumentException($"The transcript hash is {TranscriptHashSize} bytes.", nameof(transcriptHash));

        // Pinned so that compaction never leaves copies of the keys in memory.
        var secrets = GC.AllocateArray<byte>(SecretsSize, pinned: true);
        Span<byte> prk = stackalloc byte[32];
        try
        {
            HKDF.Extract(HashAlgorithmName.SHA256, sharedSecret, transcriptHash, prk);
            HKDF.Expand(HashAlgorithmName.SHA256, prk, secrets.AsSpan(ClientKeyOffset, KeySize), ClientKeyLabel);
            HKDF.Expand(HashAlgorithmName.SHA256, prk, secrets.AsSpan(ServerKeyOffset, KeySize), ServerKeyLabel);
            HKDF.Expand(HashAlgorithmName.SHA256, prk, secrets.AsSpan(ClientIvOffset, IvSize), ClientIvLabel);
            HKDF.Expand(HashAlgorithmName.SHA256, prk, secrets.AsSpan(ServerIvOffset, IvSize), ServerIvLabel);
            HKDF.Expand(HashAlgorithmName.SHA256, prk, secrets.AsSpan(FinishedKeyOffset, KeySize), FinishedLabel);
            transcriptHash.CopyTo(secrets.AsSpan(TranscriptOffset));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(prk);
        }
        return new SessionKeys(secrets);
    }

    /// <summary>SF = HMAC-SHA256(k_fin, "server finished" || TH).</summary>
    public void ComputeServerFinished(Span<byte> destination) => ComputeFinished(ServerFinishedLabel, destination);

    /// <summary>CF = HMAC-SHA256(k_fin, "client finished" || TH).</summary>
    public void ComputeClientFinished(Span<byte> destination) => ComputeFinished(ClientFinishedLabel, destination);

    /// <summary>Checks a received SF in constant time.</summary>
    public bool VerifyServerFinished(ReadOnlySpan<byte> mac) => VerifyFinished(ServerFinishedLabel, mac);

    /// <summary>Checks a received CF in constant time.</summary>
    public bool VerifyClientFinished(ReadOnlySpan<byte> mac) => VerifyFinished(ClientFinishedLabel, mac);

    /// <summary>The protection of what this side sends: c2s for the client, s2c for the server.</summary>
    public PacketProtection CreateSender(bool isClient) => isClient
        ? new PacketProtection(ClientToServerKey, ClientToServerIv)
        : new PacketProtection(ServerToClientKey, ServerToClientIv);

    /// <summary>The protection of what this side receives: s2c for the client, c2s for the server.</summary>
    public PacketProtection CreateReceiver(bool isClient) => CreateSender(!isClient);

    /// <summary>Zeroes every key.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        CryptographicOperations.ZeroMemory(_secrets);
    }

    private ReadOnlySpan<byte> Secret(int offset, int length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _secrets.AsSpan(offset, length);
    }

    private void ComputeFinished(ReadOnlySpan<byte> label, Span<byte> destination)
    {
        if (destination.Length < FinishedSize)
            throw new ArgumentException($"The destination must hold {FinishedSize} bytes.", nameof(destination));
        Span<byte> message = stackalloc byte[label.Length + TranscriptHashSize];
        label.CopyTo(message);
        TranscriptHash.CopyTo(message[label.Length..]);
        HMACSHA256.HashData(FinishedKey, message, destination);
    }

    private bool VerifyFinished(ReadOnlySpan<byte> label, ReadOnlySpan<byte> mac)
    {
        Span<byte> expected = stackalloc byte[FinishedSize];
        ComputeFinished(label, expected);
        // FixedTimeEquals is false for a length mismatch without looking at the contents.
        var equal = CryptographicOperations.FixedTimeEquals(expected, mac);
        CryptographicOperations.ZeroMemory(expected);
        return equal;
    }
}
