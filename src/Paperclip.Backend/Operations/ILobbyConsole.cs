namespace Paperclip.Backend.Operations;

/// <summary>
/// What the operator's console needs from the game servers: each lobby's live sessions, and
/// removing a player. The in-process game host implements it; without one the console shows
/// the registry's members without sessions and cannot remove players.
/// </summary>
public interface ILobbyConsole
{
    /// <summary>The connected players of a lobby; empty when it runs no game server here.</summary>
    IReadOnlyList<PlayerSession> Sessions(long lobbyId);

    /// <summary>
    /// Disconnects a player from a lobby (SERVER_DISCONNECT) and keeps it from joining that lobby
    /// again; false when the account is not connected to it.
    /// </summary>
    bool RemovePlayer(long lobbyId, long accountId);
}

/// <summary>A connected player's session, as the game server sees it.</summary>
/// <param name="AccountId">The account.</param>
/// <param name="Username">The account's user name (from its certificate).</param>
/// <param name="RoundTripTime">The smoothed round-trip time; zero before the first sample.</param>
/// <param name="MessagesSent">Messages the server sent the player.</param>
/// <param name="Retransmissions">Of those, reliable messages sent again: the loss the server saw.</param>
/// <param name="Dropped">Datagrams from the player that were dropped (malformed, replayed, failed authentication…).</param>
/// <param name="BytesSent">Bytes the server sent.</param>
/// <param name="BytesReceived">Bytes the server received.</param>
/// <param name="ConnectedSince">When the handshake completed.</param>
public sealed record PlayerSession(
    long AccountId,
    string Username,
    TimeSpan RoundTripTime,
    long MessagesSent,
    long Retransmissions,
    long Dropped,
    long BytesSent,
    long BytesReceived,
    DateTimeOffset ConnectedSince);
