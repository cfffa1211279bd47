using System.Text.Json;
using System.Text.Json.Serialization;

namespace Paperclip.Contracts;

/// <summary>A request naming a game by id or by name: <c>/lobby/find</c>, <c>/lobby/create</c>, <c>/lobby/matchmake</c>.</summary>
/// <param name="GameId">The game's id; it wins when both fields are given.</param>
/// <param name="GameName">The game's name, case-insensitive.</param>
public sealed record GameRequest(long? GameId = null, string? GameName = null);

/// <summary>A request naming a lobby: <c>GET /lobby/</c>.</summary>
/// <param name="LobbyId">The lobby's id.</param>
public sealed record LobbyRequest(long LobbyId);

/// <summary>Where a lobby's game server listens, written <c>[host, port]</c>.</summary>
/// <param name="Host">The server's configured public host.</param>
/// <param name="Port">The lobby's UDP port.</param>
[JsonConverter(typeof(LobbyAddressConverter))]
public sealed record LobbyAddress(string Host, int Port);

/// <summary>A lobby's address and game: <c>/lobby/</c>, <c>/lobby/find</c>, <c>/lobby/create</c>, <c>/lobby/matchmake</c>.</summary>
/// <param name="LobbyId">The lobby's id.</param>
/// <param name="LobbyAddr">Where its game server listens: the address a client sends its AUTH to.</param>
/// <param name="GameId">The game it runs.</param>
/// <param name="State">The lobby's state, after Agones' game-server states: Scheduled, Ready, Allocated, Draining or Shutdown (a field added to the spec's).</param>
public sealed record LobbyResponse(long LobbyId, LobbyAddress LobbyAddr, long GameId, LobbyState State);

/// <summary>A game in <c>/lobby/all</c>.</summary>
/// <param name="GameId">The game's id.</param>
/// <param name="GameName">The game's name.</param>
public sealed record LobbyGame(long GameId, string GameName);

/// <summary>A lobby in <c>/lobby/all</c> (keyed there by its id).</summary>
/// <param name="Game">Its game.</param>
/// <param name="Size">The game's most players.</param>
/// <param name="Members">The players who joined.</param>
/// <param name="IsFull">True when <paramref name="Members"/> reaches <paramref name="Size"/>.</param>
/// <param name="State">The lobby's state, after Agones' game-server states: Scheduled, Ready, Allocated, Draining or Shutdown (a field added to the spec's).</param>
public sealed record LobbySummary(LobbyGame Game, int Size, int Members, bool IsFull, LobbyState State);

/// <summary>An account in <c>/lobby/friends</c>.</summary>
/// <param name="AccountId">The account's id.</param>
/// <param name="Username">Its username.</param>
public sealed record LobbyAccount(long AccountId, string Username);

/// <summary>A lobby in <c>/lobby/friends</c>.</summary>
/// <param name="LobbyId">The lobby's id.</param>
/// <param name="GameId">Its game's id.</param>
/// <param name="GameName">Its game's name.</param>
public sealed record FriendLobby(long LobbyId, long GameId, string GameName);

/// <summary>An entry of <c>/lobby/friends</c>: a friend and the lobbies with space that the friend is in.</summary>
/// <param name="Account">The friend.</param>
/// <param name="Lobbies">Those lobbies.</param>
public sealed record FriendInLobbies(LobbyAccount Account, IReadOnlyList<FriendLobby> Lobbies);

/// <summary>Reads and writes a <see cref="LobbyAddress"/> as <c>[host, port]</c>.</summary>
public sealed class LobbyAddressConverter : JsonConverter<LobbyAddress>
{
    /// <inheritdoc />
    public override LobbyAddress Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray || !reader.Read() || reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException("Expected [host, port].");
        }

        var host = reader.GetString()!;
        if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var port) || !reader.Read() || reader.TokenType != JsonTokenType.EndArray)
        {
            throw new JsonException("Expected [host, port].");
        }

        return new LobbyAddress(host, port);
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, LobbyAddress value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStartArray();
        writer.WriteStringValue(value.Host);
        writer.WriteNumberValue(value.Port);
        writer.WriteEndArray();
    }
}
