namespace Paperclip.Protocol;

/// <summary>The BEAT field of a HEARTBEAT packet.</summary>
public enum HeartbeatKind : byte
{
    /// <summary>Are you there?</summary>
    Ping = 0,
    /// <summary>The answer to a PING.</summary>
    Pong = 1,
}
