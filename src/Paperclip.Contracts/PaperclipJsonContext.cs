using System.Text.Json.Serialization;

namespace Paperclip.Contracts;

/// <summary>
/// Source-generated JSON metadata of every body of the API: kebab-case names (<c>account-id</c>),
/// numbers only as JSON numbers, and strict reading — a missing constructor field, a null where
/// the contract has none, or a duplicated name is an error, not a default.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.KebabCaseLower,
    NumberHandling = JsonNumberHandling.Strict,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    AllowDuplicateProperties = false,
    MaxDepth = 16)]
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
[JsonSerializable(typeof(ProblemResponse))]
public sealed partial class PaperclipJsonContext : JsonSerializerContext;
