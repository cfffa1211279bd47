using Paperclip.Games;
using Paperclip.Protocol;
using Paperclip.Transport;

namespace Paperclip.GameHost;

/// <summary>A lobby member as its game sees it: sends go over the member's session.</summary>
internal sealed class GamePlayer(PaperclipConnection connection) : IGamePlayer
{
    public PaperclipConnection Connection { get; } = connection;

    public long AccountId => Connection.AccountId;

    public string Username => Connection.Username;

    public bool SupportsChannels => Connection.ProtocolVersion >= ProtocolConstants.Version2;

    public void Send(ReadOnlySpan<byte> message) => Send(message, Delivery.Reliable);

    public void Send(ReadOnlySpan<byte> message, Delivery delivery, int channel = 0)
    {
        if (Connection.IsConnected)
            Connection.Send(message, delivery, channel);
    }

    public void SendError(string message)
    {
        if (Connection.IsConnected)
            Connection.SendError(ErrorCode.Of(PacketError.Data), message);
    }
}
