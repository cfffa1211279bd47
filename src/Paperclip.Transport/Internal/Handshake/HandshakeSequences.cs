namespace Paperclip.Transport.Internal.Handshake;

/// <summary>
/// The server's sequence ids in the handshake (protocol §5.1: AUTH takes s, the ACK with SF
/// takes s + 1; this server starts at s = 0), and where its session's numbering continues.
/// </summary>
internal static class HandshakeSequences
{
    public const ushort ServerAuth = 0;

    public const ushort ServerFinished = ServerAuth + 1;

    public const ushort FirstSessionSequence = ServerFinished + 1;
}
