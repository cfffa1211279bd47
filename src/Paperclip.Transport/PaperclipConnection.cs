using System.Net;
using Paperclip.Protocol;
using Paperclip.Transport.Internal;

namespace Paperclip.Transport;

/// <summary>A connected client as the server sees it.</summary>
public sealed class PaperclipConnection
{
    internal PaperclipConnection(ServerSession session, ClientIdentity identity)
    {
        Session = session;
        Identity = identity;
    }

    internal ServerSession Session { get; }

    /// <summary>Who the client is, from its certificate.</summary>
    public ClientIdentity Identity { get; }

    /// <summary>The account id (the certificate's UID).</summary>
    public long AccountId => Identity.AccountId;

    /// <summary>The username (the certificate's pseudonym).</summary>
    public string Username => Identity.Username;

    /// <summary>The client's address.</summary>
    public IPEndPoint RemoteEndPoint => Session.RemoteEndPoint;

    /// <summary>Traffic counters and the RTT.</summary>
    public ConnectionStatistics Statistics => Session.Statistics;

    /// <summary>False once the session ended (or an end was asked for).</summary>
    public bool IsConnected => !Session.IsEnding;

    /// <summary>
    /// Sends a message from any thread: sealed, delivered as <paramref name="delivery"/> says,
    /// fragmented when it does not fit one datagram. It leaves on the I/O loop's next turn.
    /// </summary>
    /// <exception cref="SizeException">The message exceeds the maximum message size or 255 fragments.</exception>
    /// <exception cref="ArgumentException">Unknown options, or <see cref="SendOptions.Plaintext"/> under the required policy.</exception>
    /// <exception cref="SendBufferFullException">The send buffer is full (<see cref="PaperclipOptions.MaxSendBufferBytes"/>).</exception>
    /// <exception cref="ObjectDisposedException">The session has ended.</exception>
    public void Send(ReadOnlySpan<byte> data, Delivery delivery = Delivery.Reliable, SendOptions options = SendOptions.None) => Session.Send(data, delivery, 0, options);

    /// <summary>
    /// Sends a message on <paramref name="channel"/> (0–63) with a channel delivery
    /// (<see cref="Delivery.ReliableOrdered"/>, <see cref="Delivery.ReliableSequenced"/>,
    /// <see cref="Delivery.UnreliableSequenced"/>), from any thread; always sealed.
    /// </summary>
    /// <exception cref="InvalidOperationException">A channel delivery to a client whose session runs protocol version 1 (see <see cref="ProtocolVersion"/>).</exception>
    /// <exception cref="SendBufferFullException">The send buffer is full.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A channel outside 0–63.</exception>
    public void Send(ReadOnlySpan<byte> data, Delivery delivery, int channel, SendOptions options = SendOptions.None) => Session.Send(data, delivery, channel, options);

    /// <summary>Sends like <see cref="Send(ReadOnlySpan{byte}, Delivery, int, SendOptions)"/>, or returns false, sending nothing, when the send buffer has no room.</summary>
    public bool TrySend(ReadOnlySpan<byte> data, Delivery delivery = Delivery.Reliable, int channel = 0, SendOptions options = SendOptions.None) =>
        Session.TrySend(data, delivery, channel, options);

    /// <summary>Completes once the send buffer is at most half full, or the session ended.</summary>
    public Task WhenWritableAsync(CancellationToken cancellationToken = default) => Session.WhenWritableAsync(cancellationToken);

    /// <summary>Bytes of messages held for sending: queued, waiting for a window, or sent and not yet acknowledged.</summary>
    public long QueuedBytes => Session.BufferedBytes;

    /// <summary>Messages held for sending.</summary>
    public int QueuedMessages => Session.BufferedMessages;

    /// <summary>The protocol version of the session: 2 has channels, 1 does not.</summary>
    public int ProtocolVersion => Session.Version;

    /// <summary>
    /// Sends the client an ERROR packet that does not end the session (e.g. PACKET / DATA for a
    /// game message it cannot accept), with a readable explanation of at most 256 UTF-8 bytes.
    /// </summary>
    public void SendError(ErrorCode code, string message) => Session.SendErrorFromAnyThread(code, message);

    /// <summary>Ends the session, telling the client (DISCONNECT / SERVER_DISCONNECT).</summary>
    public void Disconnect() => Session.RequestClose(DisconnectReason.ServerDisconnect, "disconnected by the server");

    /// <inheritdoc />
    public override string ToString() => $"{Username} (#{AccountId}) at {RemoteEndPoint}";
}
