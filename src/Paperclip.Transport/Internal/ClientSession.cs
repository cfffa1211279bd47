using System.Net;
using Paperclip.Protocol;
using Paperclip.Transport.Internal.Io;

namespace Paperclip.Transport.Internal;

/// <summary>The client's session with its server.</summary>
internal sealed class ClientSession(PaperclipClient client, UdpEndpoint endpoint, SocketAddress server)
    : Session(endpoint, server, client.Settings, client.Clock, budget: null, heldBudget: null, client.Logger)
{
    private bool _finishedAcknowledged;

    /// <summary>The server's AUTH and its ACK with SF, kept to recognise repeats once connected.</summary>
    public byte[]? ServerAuth { get; set; }

    public byte[]? ServerFinishedAck { get; set; }

    /// <summary>Our Finished ACK, resent when the server repeats its AUTH (protocol §5.4).</summary>
    public byte[]? ClientFinished { get; set; }

    /// <summary>The SEQ of our Finished ACK; once the server acknowledges it the handshake is over for both sides.</summary>
    public ushort FinishedSequence { get; set; }

    /// <summary>Queues our Finished ACK as a RELIABLE plaintext packet that travels alone.</summary>
    public void QueueFinished(PacketHeader header, ReadOnlySpan<byte> mac) => QueueHandshakePacket(header, mac);

    public override bool OnPlaintextHandshake(ReadOnlySpan<byte> datagram, in PacketHeader header)
    {
        if (header.Type == PacketType.Auth && ServerAuth is not null && datagram.SequenceEqual(ServerAuth))
        {
            SendNow(ClientFinished);
            return true;
        }
        if (header.Type == PacketType.Error)
        {
            // The server refused our Finished (CONNECTION / FINISH_INVALID): we thought we were
            // connected, it never did. Only believed until it acknowledges the Finished.
            if (_finishedAcknowledged || header.Error.Major != ErrorMajor.Connection)
                return false;
            Close(DisconnectReason.Disconnect, notifyPeer: false, $"the server refused the handshake: {header.Error}");
            return true;
        }
        return header.Type == PacketType.Ack && ServerFinishedAck is not null && datagram.SequenceEqual(ServerFinishedAck);
    }

    protected override void OnAcknowledged(ushort sequence)
    {
        if (sequence == FinishedSequence)
            _finishedAcknowledged = true;
    }

    protected override void OnMessage(ReadOnlySpan<byte> data, in MessageInfo info) => client.RaiseData(data, info);

    protected override void OnError(ErrorCode code, string text) => client.RaiseError(code, text);

    protected override void OnEnded(DisconnectReason reason, string? text) => client.OnSessionClosed(reason, text);
}
