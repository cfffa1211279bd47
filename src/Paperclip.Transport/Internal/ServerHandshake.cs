using System.Net;
using Paperclip.Protocol.Crypto;
using Paperclip.Transport.Internal.Io;

namespace Paperclip.Transport.Internal;

/// <summary>
/// A handshake in progress on the server (protocol §5.1): created only after the cookie (when
/// demanded) and capacity checks, holding the client's AUTH and, once the certificate checked
/// out, the server's two answer datagrams and the session keys.
/// </summary>
internal sealed class ServerHandshake(SocketAddress remote, byte[] clientAuth, Range certificate, Range key, Range signature, ushort clientAuthSequence, long nowMs,
    long timeoutMs, long firstRetryMs, Action<ServerHandshake, long> onTimer) : IDisposable, ITimed
{
    /// <summary>The server's answers are repeated with this many doublings of the first delay at most.</summary>
    private const int MaxBackoffDoublings = 6;

    public Lock Lock { get; } = new();

    public SocketAddress Remote { get; } = remote;

    /// <summary>The address as an endpoint, for logs.</summary>
    public IPEndPoint RemoteEndPoint => field ??= Remote.ToIPEndPoint();

    public byte[] ClientAuth { get; } = clientAuth;

    public ReadOnlyMemory<byte> Certificate => ClientAuth.AsMemory(certificate);

    public ReadOnlySpan<byte> ClientKeySpan => ClientAuth.AsSpan(key);

    public byte[] ClientKey { get; } = clientAuth[key];

    public ReadOnlySpan<byte> Signature => ClientAuth.AsSpan(signature);

    public ushort ClientAuthSequence { get; } = clientAuthSequence;

    public long StartedMs { get; } = nowMs;

    public long LastSentMs { get; set; } = nowMs;

    public int Retries { get; set; }

    /// <summary>Client Finished ACKs that did not verify (corrupted or spoofed); a few end the handshake.</summary>
    public int InvalidFinished { get; set; }

    /// <summary>Bytes received from and sent to the unvalidated address (anti-amplification, §5.5).</summary>
    public long BytesReceived { get; set; }

    public long BytesSent { get; set; }

    public ClientIdentity? Identity { get; set; }

    public byte[]? ServerAuth { get; set; }

    public byte[]? ServerFinishedAck { get; set; }

    public SessionKeys? Keys { get; set; }

    /// <summary>The client's Finished ACK datagram, kept to recognise a repeat of it.</summary>
    public byte[]? ClientFinished { get; set; }

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
