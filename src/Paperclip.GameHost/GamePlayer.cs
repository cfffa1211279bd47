using Paperclip.Games;
using Paperclip.Protocol;
using Paperclip.Transport;

namespace Paperclip.GameHost;

/// <summary>A lobby member as its game sees it: sends go RELIABLE over the member's session.</summary>
internal sealed class GamePlayer(PaperclipConnection connection) : IGamePlayer
{
    public PaperclipConnection Connection { get; } = connection;

    public long AccountId => Connection.AccountId;

    public string Username => Connection.Username;

    /// <summary>When the player's handshake completed.</summary>
    public DateTimeOffset JoinedAt { get; init; }

    public void Send(ReadOnlySpan<byte> message)
    {
        if (Connection.IsConnected)
            Connection.Send(message, Delivery.Reliable);
    }

    public void SendError(string message)
    {
        if (Connection.IsConnected)
            Connection.SendError(ErrorCode.Of(PacketError.Data), message);
    }
}
