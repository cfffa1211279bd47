using System.Net;
using Paperclip.Protocol;
using Paperclip.Transport.Internal.Handshake;
using Paperclip.Transport.Internal.Io;

namespace Paperclip.Transport.Internal;

/// <summary>A connected client on the server.</summary>
internal sealed class ServerSession : Session
{
    private readonly PaperclipServer _server;
    private readonly byte[] _clientFinished;

    public ServerSession(PaperclipServer server, UdpEndpoint endpoint, SocketAddress remote, ServerHandshake handshake, ReassemblyBudget budget, ReassemblyBudget heldBudget)
        : base(endpoint, remote, server.Settings, server.Clock, budget, heldBudget, server.Logger)
    {
        _server = server;
        _clientFinished = handshake.ClientFinished!;
        ClientKey = handshake.ClientKey;
        Connection = new PaperclipConnection(this, handshake.Identity!);
    }

    public PaperclipConnection Connection { get; }

    /// <summary>The ephemeral key of the handshake that made this session: a repeated AUTH with it is stale.</summary>
    public byte[] ClientKey { get; }

    public override bool OnPlaintextHandshake(ReadOnlySpan<byte> datagram, in PacketHeader header)
    {
        if (header.Type == PacketType.Ack && datagram.SequenceEqual(_clientFinished))
        {
            // The client missed our ACK of its Finished: acknowledge it again (protocol §5.4).
            Acknowledge(header.Sequence);
            return true;
        }
        return false;
    }

    protected override void OnMessage(ReadOnlySpan<byte> data, in MessageInfo info) => _server.RaiseData(Connection, data, info);

    protected override void OnError(ErrorCode code, string text) => _server.RaiseError(Connection, code, text);

    protected override void OnEnded(DisconnectReason reason, string? text) => _server.OnSessionClosed(this, reason, text);
}
