using System.Net;
using System.Security.Cryptography;
using Paperclip.Protocol;
using Paperclip.Protocol.Crypto;
using Paperclip.Transport.Internal.Io;

namespace Paperclip.Transport.Internal.Handshake;

/// <summary>What a client's Finished ACK did to its handshake.</summary>
internal enum FinishedOutcome
{
    /// <summary>Not for this handshake, or too early: nothing changed.</summary>
    Ignored,
    /// <summary>Corrupted or spoofed; the client resends it.</summary>
    Invalid,
    /// <summary>Invalid too many times: the handshake ends with FINISH_INVALID.</summary>
    Refused,
    /// <summary>Verified: the handshake is complete.</summary>
    Completed,
}

/// <summary>
/// A handshake in progress on the server (protocol §5.1), without sockets: created only after
/// the cookie (when demanded) and capacity checks, holding the client's AUTH; once the
/// certificate checked out, <see cref="Answer"/> makes the server's two answer datagrams and the
/// session keys, and <see cref="OnClientFinished"/> checks the client's Finished. The
/// certificate check and <see cref="Answer"/> run on the thread pool, the rest on the I/O loop:
/// the two meet under <see cref="Lock"/>.
/// </summary>
internal sealed class ServerHandshake(SocketAddress remote, byte[] clientAuth, byte version, KeyAgreement keyAgreement, Range certificate, Range key, Range signature,
    ushort clientAuthSequence, long nowMs, long timeoutMs, long firstRetryMs, Action<ServerHandshake, long> onTimer) : IDisposable, ITimed
{
    /// <summary>The server's answers are repeated with this many doublings of the first delay at most.</summary>
    private const int MaxBackoffDoublings = 6;
    private const int MaxInvalidFinished = 3;

    public Lock Lock { get; } = new();

    public SocketAddress Remote { get; } = remote;

    /// <summary>The address as an endpoint, for logs.</summary>
    public IPEndPoint RemoteEndPoint => field ??= Remote.ToIPEndPoint();

    public byte[] ClientAuth { get; } = clientAuth;

    /// <summary>The version the client asked for, which the server accepted: the session's.</summary>
    public byte Version { get; } = version;

    /// <summary>The algorithm of the client's KEY; the server's KEY uses the same (§6.1).</summary>
    public KeyAgreement KeyAgreement { get; } = keyAgreement;

    public ReadOnlyMemory<byte> Certificate => ClientAuth.AsMemory(certificate);

    public ReadOnlySpan<byte> ClientKeySpan => ClientAuth.AsSpan(key);

    public byte[] ClientKey { get; } = clientAuth[key];

    public ReadOnlySpan<byte> Signature => ClientAuth.AsSpan(signature);

    public ushort ClientAuthSequence { get; } = clientAuthSequence;

    public long StartedMs { get; } = nowMs;

    public long LastSentMs { get; set; } = nowMs;

    public int Retries { get; set; }

    /// <summary>Client Finished ACKs that did not verify (corrupted or spoofed); a few end the handshake.</summary>
    public int InvalidFinished { get; private set; }

    /// <summary>Bytes received from and sent to the unvalidated address (anti-amplification, §5.5).</summary>
    public long BytesReceived { get; set; }

    public long BytesSent { get; set; }

    public ClientIdentity? Identity { get; private set; }

    public byte[]? ServerAuth { get; private set; }

    public byte[]? ServerFinishedAck { get; private set; }

    public SessionKeys? Keys { get; private set; }

    /// <summary>The client's Finished ACK datagram, kept to recognise a repeat of it.</summary>
    public byte[]? ClientFinished { get; private set; }

    /// <summary>
    /// Agrees on keys with the client (P-256 ECDH or X25519, as the client chose), signs the
    /// transcript so far and makes the two answers: our AUTH (SEQ s) and the ACK of the client's
    /// AUTH with SF (SEQ s + 1). False when the client's ephemeral key is not a valid point or
    /// gives an all-zero secret. Thread pool; takes <see cref="Lock"/> to publish.
    /// </summary>
    public bool Answer(ClientIdentity identity, ServerCredentials credentials, long now)
    {
        using var ephemeral = EphemeralKey.Generate(KeyAgreement);
        var sharedSecret = new byte[EphemeralKey.SharedSecretSize];
        try
        {
            if (!ephemeral.TryDeriveSharedSecret(ClientKeySpan, sharedSecret))
                return false;
            var signature = credentials.Sign(ClientAuth, ephemeral.PublicKey, out var certificate);
            var serverAuth = new byte[PacketWriter.AuthHeaderLength(certificate.Length, ephemeral.PublicKey.Length, signature.Length)];
            PacketWriter.WriteAuthHeader(serverAuth, PacketFlags.Reliable, HandshakeSequences.ServerAuth, Version, certificate, ephemeral.PublicKey, signature);

            Span<byte> transcript = stackalloc byte[32];
            SessionKeys.ComputeTranscriptHash(ClientAuth, serverAuth, transcript);
            var keys = SessionKeys.Derive(sharedSecret, transcript);

            var finished = PacketHeader.Create(PacketType.Ack, PacketFlags.None, HandshakeSequences.ServerFinished);
            finished.AckId = ClientAuthSequence;
            var finishedAck = new byte[PacketWriter.HeaderLength(PacketType.Ack, PacketFlags.None) + SessionKeys.FinishedSize];
            keys.ComputeServerFinished(finishedAck.AsSpan(PacketWriter.WriteHeader(finishedAck, finished)));

            lock (Lock)
            {
                Identity = identity;
                Keys = keys;
                ServerAuth = serverAuth;
                ServerFinishedAck = finishedAck;
                LastSentMs = now;
            }
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sharedSecret);
        }
    }

    /// <summary>Checks a plaintext RELIABLE ACK from the client's address as its Finished. Under <see cref="Lock"/>.</summary>
    public FinishedOutcome OnClientFinished(ReadOnlySpan<byte> datagram, in PacketHeader header)
    {
        var finished = datagram[header.Length..];
        BytesReceived += datagram.Length;
        if (!Ready || header.AckId != HandshakeSequences.ServerAuth || finished.Length != SessionKeys.FinishedSize)
            return FinishedOutcome.Ignored;
        // SEQ and ACK_BITS are outside the MAC: they must be what the spec says (§5.1), or a
        // corrupted copy would be acknowledged under the wrong id. A bad Finished may be
        // corruption or a spoof; the client resends it, so only repeated ones end the handshake.
        if (header.Sequence != (ushort)(ClientAuthSequence + 1) || header.AckBits != 0 || !Keys!.VerifyClientFinished(finished))
            return ++InvalidFinished >= MaxInvalidFinished ? FinishedOutcome.Refused : FinishedOutcome.Invalid;
        ClientFinished = datagram.ToArray();
        return FinishedOutcome.Completed;
    }

    /// <summary>True once the answer datagrams exist.</summary>
    public bool Ready => ServerFinishedAck is not null;

    /// <summary>True once the handshake is over (completed, failed or timed out): its deadline is gone.</summary>
    public bool IsOver { get; set; }

    /// <summary>True when the timeout has passed at <paramref name="now"/>.</summary>
    public bool HasTimedOut(long now) => now - StartedMs >= timeoutMs;

    /// <summary>True when the answers are due again at <paramref name="now"/>.</summary>
    public bool AnswersDue(long now) => Ready && now >= NextAnswerMs;

    private long NextAnswerMs => LastSentMs + (firstRetryMs << Math.Min(Retries, MaxBackoffDoublings));

    // The next thing due: a repeat of the answers while they wait for the client's Finished, or the timeout.
    long ITimed.Deadline => IsOver ? long.MaxValue : Ready ? Math.Min(StartedMs + timeoutMs, NextAnswerMs) : StartedMs + timeoutMs;

    long ITimed.ScheduledAt { get; set; } = long.MaxValue;

    void ITimed.OnTimer(long now) => onTimer(this, now);

    public void Dispose() => Keys?.Dispose();
}
