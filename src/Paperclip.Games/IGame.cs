using Microsoft.Extensions.Logging;
using Paperclip.Transport;

namespace Paperclip.Games;

/// <summary>
/// A game that lobbies can run. The lobby host finds games by their descriptor's id, and the
/// backend writes each registered game's descriptor into its catalogue at start: adding a game
/// is one class.
/// </summary>
public interface IGame
{
    /// <summary>The game's id, name and player counts.</summary>
    GameDescriptor Descriptor { get; }

    /// <summary>Starts the game logic of one lobby.</summary>
    IGameSession CreateSession(GameLobbyContext lobby);
}

/// <summary>What a game session knows of its lobby.</summary>
/// <param name="LobbyId">The lobby id.</param>
/// <param name="MaxPlayers">The game's capacity (the lobby host enforces it).</param>
/// <param name="TimeProvider">The clock.</param>
/// <param name="Logger">A logger for the session.</param>
public sealed record GameLobbyContext(long LobbyId, int MaxPlayers, TimeProvider TimeProvider, ILogger Logger);

/// <summary>A player connected to a lobby's game server.</summary>
public interface IGamePlayer
{
    /// <summary>The account id, from the player's certificate.</summary>
    long AccountId { get; }

    /// <summary>The username, from the player's certificate.</summary>
    string Username { get; }

    /// <summary>Sends a RELIABLE message to the player (exactly once, in any order).</summary>
    void Send(ReadOnlySpan<byte> message);

    /// <summary>
    /// Sends with <paramref name="delivery"/>, on <paramref name="channel"/> (0–63) for the channel
    /// deliveries — which need <see cref="SupportsChannels"/>: a player whose session runs
    /// protocol version 1 has none (send it reliable DEFAULT messages instead).
    /// </summary>
    /// <exception cref="InvalidOperationException">A channel delivery to a player without channels.</exception>
    void Send(ReadOnlySpan<byte> message, Delivery delivery, int channel = 0);

    /// <summary>True when the player's session has channels (protocol version 2).</summary>
    bool SupportsChannels { get; }

    /// <summary>Sends the player an ERROR packet with a readable explanation (at most 256 UTF-8 bytes); the session goes on.</summary>
    void SendError(string message);
}

/// <summary>
/// The game logic of one lobby. The lobby host calls it from its network threads, one call at a
/// time per session is NOT guaranteed: implementations synchronise themselves.
/// </summary>
public interface IGameSession : IDisposable
{
    /// <summary>A player completed the handshake with the lobby's server.</summary>
    void PlayerJoined(IGamePlayer player);

    /// <summary>A player disconnected or timed out.</summary>
    void PlayerLeft(IGamePlayer player);

    /// <summary>A player sent a message.</summary>
    void MessageReceived(IGamePlayer player, ReadOnlySpan<byte> message);
}
