using System.Text.Json.Serialization;

namespace Paperclip.Client.Api;

/// <summary>A registered account: <c>{"account-id","username"}</c>.</summary>
/// <param name="AccountId">The account id.</param>
/// <param name="Username">The username as registered.</param>
public sealed record AccountInfo(
    [property: JsonPropertyName("account-id")] long AccountId,
    [property: JsonPropertyName("username")] string Username);

/// <summary>A session token: <c>{"token","expires-in"}</c>.</summary>
/// <param name="Token">The JWT.</param>
/// <param name="ExpiresIn">Its lifetime in seconds.</param>
public sealed record TokenInfo(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("expires-in")] int ExpiresIn);

/// <summary>The account's encrypted private key: <c>{"key","account-id"}</c>.</summary>
/// <param name="Key">PKCS#8 EncryptedPrivateKeyInfo DER, base64.</param>
/// <param name="AccountId">The account id.</param>
public sealed record AccountKeyInfo(
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("account-id")] long AccountId);

/// <summary>A friend (or any account): <c>{"id","username"}</c>.</summary>
/// <param name="Id">The account id.</param>
/// <param name="Username">The username.</param>
public sealed record FriendInfo(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("username")] string Username);

/// <summary>A game of the catalogue.</summary>
/// <param name="Id">The game id.</param>
/// <param name="Name">The game's name, e.g. <c>RPS</c>.</param>
public sealed record GameInfo(long Id, string Name);

/// <summary>Where a lobby's game server listens: <c>{"lobby-id","lobby-addr":[host,port],"game-id"}</c>.</summary>
/// <param name="LobbyId">The lobby id.</param>
/// <param name="Host">The host to send the handshake to.</param>
/// <param name="Port">The UDP port.</param>
/// <param name="GameId">The game the lobby runs.</param>
/// <param name="Created">True when the call made a new lobby (201), false for an existing one.</param>
public sealed record LobbyInfo(long LobbyId, string Host, int Port, long GameId, bool Created = false);

/// <summary>A lobby in <c>/lobby/all</c>.</summary>
/// <param name="LobbyId">The lobby id.</param>
/// <param name="GameId">The game id.</param>
/// <param name="GameName">The game's name.</param>
/// <param name="Size">The game's maximum number of players.</param>
/// <param name="Members">The players in the lobby now.</param>
/// <param name="IsFull">True when no place is left.</param>
public sealed record LobbySummary(long LobbyId, long GameId, string GameName, int Size, int Members, bool IsFull);

/// <summary>A friend who is in lobbies with space (<c>/lobby/friends</c>).</summary>
/// <param name="AccountId">The friend's account id.</param>
/// <param name="Username">The friend's username.</param>
/// <param name="Lobbies">Those lobbies.</param>
public sealed record FriendInLobbies(long AccountId, string Username, IReadOnlyList<FriendLobby> Lobbies);

/// <summary>One lobby of a friend.</summary>
/// <param name="LobbyId">The lobby id.</param>
/// <param name="GameId">The game id.</param>
/// <param name="GameName">The game's name.</param>
public sealed record FriendLobby(
    [property: JsonPropertyName("lobby-id")] long LobbyId,
    [property: JsonPropertyName("game-id")] long GameId,
    [property: JsonPropertyName("game-name")] string GameName);
