using System.Text.Json;
using System.Text.Json.Serialization;
using Paperclip.Backend.Lobbies;

namespace Paperclip.Backend.Http;

/// <summary><c>POST /auth/register</c> request.</summary>
public sealed record RegisterRequest(string Username, string Password);

/// <summary><c>POST /auth/register</c> answer.</summary>
public sealed record RegisterResponse(long AccountId, string Username);

/// <summary><c>GET /auth/token</c> answer.</summary>
public sealed record TokenResponse(string Token, int ExpiresIn);

/// <summary><c>GET /auth/key</c> answer: the encrypted PKCS#8 private key, base64.</summary>
public sealed record KeyResponse(string Key, long AccountId);

/// <summary><c>/auth/certificate/validate</c> request.</summary>
public sealed record CertificateValidationRequest(string Certificate);

/// <summary><c>/auth/certificate/validate</c> answer.</summary>
public sealed record CertificateValidationResponse(bool Valid, long? AccountId);

/// <summary><c>GET /auth/server-key</c> answer: SubjectPublicKeyInfo DER, base64.</summary>
public sealed record ServerKeyResponse(string Key);

/// <summary>An account as <c>/friends/</c> shows it.</summary>
public sealed record FriendDto(long Id, string Username);

/// <summary><c>GET /friends/</c> answer.</summary>
public sealed record FriendsResponse(IReadOnlyList<FriendDto> Friends);

/// <summary>A request naming a user.</summary>
public sealed record UsernameRequest(string Username);

/// <summary><c>POST /friends/add</c> answer.</summary>
public sealed record FriendAddedResponse(FriendDto Account, FriendDto Other);

/// <summary>A request naming a game by id or by name (either field; game-id wins when both are given).</summary>
public sealed record GameRequest(long? GameId = null, string? GameName = null);

/// <summary>A request naming a lobby.</summary>
public sealed record LobbyRequest(long LobbyId);

/// <summary>A lobby's address and game.</summary>
public sealed record LobbyResponse(long LobbyId, [property: JsonConverter(typeof(LobbyAddressConverter))] LobbyAddress LobbyAddr, long GameId)
{
    /// <summary>From a registry snapshot.</summary>
    public static LobbyResponse From(LobbySnapshot lobby)
    {
        ArgumentNullException.ThrowIfNull(lobby);
        return new LobbyResponse(lobby.LobbyId, lobby.Address, lobby.Game.Id);
    }
}

/// <summary>A game in <c>/lobby/all</c>.</summary>
public sealed record LobbyGame(long GameId, string GameName);

/// <summary>A lobby in <c>/lobby/all</c>.</summary>
public sealed record LobbySummary(LobbyGame Game, int Size, int Members, bool IsFull);

/// <summary>An account in <c>/lobby/friends</c>.</summary>
public sealed record LobbyAccount(long AccountId, string Username);

/// <summary>A lobby in <c>/lobby/friends</c>.</summary>
public sealed record FriendLobby(long LobbyId, long GameId, string GameName);

/// <summary>An entry of <c>/lobby/friends</c>.</summary>
public sealed record FriendInLobbies(LobbyAccount Account, IReadOnlyList<FriendLobby> Lobbies);

/// <summary>Writes a <see cref="LobbyAddress"/> as <c>[host, port]</c>.</summary>
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

/// <summary>Source-generated JSON metadata of the API's bodies (kebab-case names).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.KebabCaseLower)]
[JsonSerializable(typeof(RegisterRequest))]
[JsonSerializable(typeof(RegisterResponse))]
[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(KeyResponse))]
[JsonSerializable(typeof(CertificateValidationRequest))]
[JsonSerializable(typeof(CertificateValidationResponse))]
[JsonSerializable(typeof(ServerKeyResponse))]
[JsonSerializable(typeof(FriendsResponse))]
[JsonSerializable(typeof(UsernameRequest))]
[JsonSerializable(typeof(FriendAddedResponse))]
[JsonSerializable(typeof(GameRequest))]
[JsonSerializable(typeof(LobbyRequest))]
[JsonSerializable(typeof(LobbyResponse))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, LobbySummary>))]
[JsonSerializable(typeof(Dictionary<string, long[]>))]
[JsonSerializable(typeof(List<FriendInLobbies>))]
public sealed partial class BackendJsonContext : JsonSerializerContext;
