namespace Paperclip.Transport.Internal.Connection;

/// <summary>What the keep-alive wants done now.</summary>
internal enum KeepAliveAction
{
    Nothing,
    Ping,
    /// <summary>The peer was silent past the heartbeat timeout: the session ends.</summary>
    TimedOut,
}

/// <summary>
/// Heartbeats (protocol §7): a side that heard nothing for the interval sends a PING, repeated
/// every retry interval while the peer stays silent (one PING per interval would end a healthy
/// session on a lossy path); silence past the timeout ends the session. Its deadline moves with
/// every datagram received, so a busy session never wakes for it.
/// </summary>
internal sealed class KeepAlive(long intervalMs, long retryMs, long timeoutMs, long nowMs)
{
    private long _lastPingMs = nowMs;

    public long LastReceivedMs { get; private set; } = nowMs;

    public void OnReceived(long now) => LastReceivedMs = now;

    /// <summary>When <see cref="Check"/> next has something to do; pings only when <paramref name="canPing"/>.</summary>
    public long Deadline(bool canPing)
    {
        var timeout = LastReceivedMs + timeoutMs;
        return canPing ? Math.Min(timeout, Math.Max(LastReceivedMs + intervalMs, _lastPingMs + retryMs)) : timeout;
    }

    public KeepAliveAction Check(long now, bool canPing)
    {
        var silentFor = now - LastReceivedMs;
        if (silentFor >= timeoutMs)
            return KeepAliveAction.TimedOut;
        if (canPing && silentFor >= intervalMs && now - _lastPingMs >= retryMs)
        {
            _lastPingMs = now;
            return KeepAliveAction.Ping;
        }
        return KeepAliveAction.Nothing;
    }
}
