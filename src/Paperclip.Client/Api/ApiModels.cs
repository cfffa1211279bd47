namespace Paperclip.Client.Api;

// The client's views of answers that the wire shapes (Paperclip.Contracts) key or split
// differently: a dictionary entry as one record, a lobby's address as host and port.

/// <summary>A game of the catalogue (an entry of <c>/games/</c>).</summary>
/// <param name="Id">The game id.</param>
/// <param name="Name">The game's name, e.g. <c>RPS</c>.</param>
public sealed record GameInfo(long Id, string Name);

/// <summary>Where a lobby's game server listens (a <c>LobbyResponse</c> and whether the call made the lobby).</summary>
/// <param name="LobbyId">The lobby id.</param>
/// <param name="Host">The host to send the handshake to.</param>
/// <param name="Port">The UDP port.</param>
/// <param name="GameId">The game the lobby runs.</param>
/// <param name="Created">True when the call made a new lobby (201), false for an existing one.</param>
public sealed record LobbyInfo(long LobbyId, string Host, int Port, long GameId, bool Created = false);

/// <summary>A lobby of <c>/lobby/all</c> (an entry of its dictionary).</summary>
/// <param name="LobbyId">The lobby id.</param>
/// <param name="GameId">The game id.</param>
/// <param name="GameName">The game's name.</param>
/// <param name="Size">The game's maximum number of players.</param>
/// <param name="Members">The players in the lobby now.</param>
/// <param name="IsFull">True when no place is left.</param>
public sealed record LobbyListing(long LobbyId, long GameId, string GameName, int Size, int Members, bool IsFull);
