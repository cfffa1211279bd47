using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Paperclip.Contracts;

namespace Paperclip.Client.Api;

/// <summary>
/// The backend's REST API (shared/spec/api.md) for one player: logs in with a username and
/// password, keeps a session token (renewed before it expires) and calls the endpoints with
/// <c>Authorization: Bearer</c>. Errors become <see cref="PaperclipApiException"/> (with the
/// problem's title and detail) or <see cref="ServerUnreachableException"/>.
/// </summary>
public sealed class PaperclipApi : IDisposable
{
    private static readonly TimeSpan RenewBefore = TimeSpan.FromSeconds(30);
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _tokenLock = new(1, 1);
    private string? _password;
    private string? _token;
    private DateTimeOffset _tokenExpires;

    /// <summary>Creates a client for the server at <paramref name="server"/>.</summary>
    /// <param name="server">The backend's base address, e.g. <c>http://127.0.0.1:5000</c>.</param>
    /// <param name="handler">The HTTP handler (tests); a new one when null.</param>
    /// <param name="timeProvider">The clock for token renewal.</param>
    public PaperclipApi(Uri server, HttpMessageHandler? handler = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        Server = server;
        _time = timeProvider ?? TimeProvider.System;
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: true);
        _http.BaseAddress = new Uri(server.AbsoluteUri.EndsWith('/') ? server.AbsoluteUri : server.AbsoluteUri + "/");
        _http.Timeout = TimeSpan.FromSeconds(30);
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("paperclip-cli", "1.0"));
    }

    /// <summary>The backend's address.</summary>
    public Uri Server { get; }

    /// <summary>The logged-in user's name, as given at login (null before).</summary>
    public string? Username { get; private set; }

    /// <summary>The logged-in account's id (null before login).</summary>
    public long? AccountId { get; private set; }

    /// <summary>The current session token (null before login).</summary>
    public string? Token => _token;

    // ------------------------------------------------------------------ accounts

    /// <summary>Registers an account (<c>POST /auth/register</c>).</summary>
    public async Task<RegisterResponse> RegisterAsync(string username, string password, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "auth/register")
        {
            Content = Body(new RegisterRequest(username, password), Json.RegisterRequest),
        };
        return await SendAsync(request, Json.RegisterResponse, authenticate: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Logs in (<c>GET /auth/token</c> with Basic username:password) and keeps the token for later calls.</summary>
    /// <exception cref="PaperclipApiException">401 wrong username or password; 429 too many failed logins.</exception>
    public async Task<TokenResponse> LoginAsync(string username, string password, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(username);
        ArgumentNullException.ThrowIfNull(password);
        var token = await FetchTokenAsync(username, password, cancellationToken).ConfigureAwait(false);
        Username = username;
        _password = password;
        return token;
    }

    /// <summary>The account's private key, encrypted with its password (<c>GET /auth/key</c>).</summary>
    public async Task<KeyResponse> GetAccountKeyAsync(CancellationToken cancellationToken = default) =>
        await GetAsync("auth/key", Json.KeyResponse, cancellationToken).ConfigureAwait(false);

    /// <summary>The backend's server public key, SubjectPublicKeyInfo DER (<c>GET /auth/server-key</c>).</summary>
    public async Task<byte[]> GetServerKeyAsync(CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "auth/server-key");
        var body = await SendAsync(request, Json.ServerKeyResponse, authenticate: false, cancellationToken).ConfigureAwait(false);
        return Convert.FromBase64String(body.Key);
    }

    // ------------------------------------------------------------------ friends

    /// <summary>The friends of the logged-in account (<c>GET /friends/</c>).</summary>
    public async Task<IReadOnlyList<UserSummary>> GetFriendsAsync(CancellationToken cancellationToken = default) =>
        (await GetAsync("friends/", Json.FriendsResponse, cancellationToken).ConfigureAwait(false)).Friends;

    /// <summary>Befriends <paramref name="username"/> (<c>POST /friends/add</c>); returns the friend.</summary>
    public async Task<UserSummary> AddFriendAsync(string username, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "friends/add") { Content = Body(new UsernameRequest(username), Json.UsernameRequest) };
        return (await SendAsync(request, Json.FriendAddedResponse, authenticate: true, cancellationToken).ConfigureAwait(false)).Other;
    }

    /// <summary>Ends the friendship with <paramref name="username"/> (<c>DELETE /friend/remove</c>).</summary>
    public async Task RemoveFriendAsync(string username, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, "friend/remove") { Content = Body(new UsernameRequest(username), Json.UsernameRequest) };
        await SendCoreAsync<object>(request, body: null, authenticate: true, cancellationToken).ConfigureAwait(false);
    }

    // ------------------------------------------------------------------ games

    /// <summary>The games catalogue (<c>GET /games/</c>), by id.</summary>
    public async Task<IReadOnlyList<GameInfo>> GetGamesAsync(CancellationToken cancellationToken = default)
    {
        var body = await GetAsync("games/", Json.DictionaryStringString, cancellationToken).ConfigureAwait(false);
        return [.. body.Select(p => new GameInfo(long.Parse(p.Key, CultureInfo.InvariantCulture), p.Value)).OrderBy(g => g.Id)];
    }

    // ------------------------------------------------------------------ lobbies

    /// <summary>One lobby's address (<c>GET /lobby/?lobby-id=</c>).</summary>
    public async Task<LobbyInfo> GetLobbyAsync(long lobbyId, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"lobby/?lobby-id={lobbyId.ToString(CultureInfo.InvariantCulture)}");
        return await SendLobbyAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every lobby with its game and member count (<c>GET /lobby/all</c>), by id.</summary>
    public async Task<IReadOnlyList<LobbyListing>> GetLobbiesAsync(CancellationToken cancellationToken = default)
    {
        var body = await GetAsync("lobby/all", Json.DictionaryStringLobbySummary, cancellationToken).ConfigureAwait(false);
        return [.. body
            .Select(p => new LobbyListing(long.Parse(p.Key, CultureInfo.InvariantCulture), p.Value.Game.GameId, p.Value.Game.GameName, p.Value.Size, p.Value.Members, p.Value.IsFull))
            .OrderBy(l => l.LobbyId)];
    }

    /// <summary>The members (account ids) of every lobby (<c>GET /lobby/members</c>), by lobby id.</summary>
    public async Task<IReadOnlyDictionary<long, IReadOnlyList<long>>> GetLobbyMembersAsync(CancellationToken cancellationToken = default)
    {
        var body = await GetAsync("lobby/members", Json.DictionaryStringInt64Array, cancellationToken).ConfigureAwait(false);
        return body.ToDictionary(p => long.Parse(p.Key, CultureInfo.InvariantCulture), p => (IReadOnlyList<long>)p.Value);
    }

    /// <summary>Friends who are in lobbies with space, and those lobbies (<c>GET /lobby/friends</c>).</summary>
    public async Task<IReadOnlyList<FriendInLobbies>> GetFriendsLobbiesAsync(CancellationToken cancellationToken = default) =>
        await GetAsync("lobby/friends", Json.ListFriendInLobbies, cancellationToken).ConfigureAwait(false);

    /// <summary>Creates a lobby of <paramref name="game"/> (a name like <c>RPS</c> or an id) and reserves a place in it (<c>POST /lobby/create</c>).</summary>
    public async Task<LobbyInfo> CreateLobbyAsync(string game, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "lobby/create") { Content = GameBody(game) };
        return await SendLobbyAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Finds a lobby of <paramref name="game"/> with space, or creates one, and reserves a place (<c>POST /lobby/matchmake</c>).</summary>
    public async Task<LobbyInfo> MatchmakeAsync(string game, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "lobby/matchmake") { Content = GameBody(game) };
        return await SendLobbyAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Releases the HTTP client.</summary>
    public void Dispose()
    {
        _http.Dispose();
        _tokenLock.Dispose();
    }

    // ------------------------------------------------------------------ plumbing

    private static PaperclipJsonContext Json => PaperclipJsonContext.Default;

    private static JsonContent Body<T>(T value, JsonTypeInfo<T> info) => JsonContent.Create(value, info);

    private static JsonContent GameBody(string game) => Body(
        long.TryParse(game, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? new GameRequest(GameId: id) : new GameRequest(GameName: game),
        Json.GameRequest);

    private async Task<LobbyInfo> SendLobbyAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var (lobby, status) = await SendCoreAsync(request, Json.LobbyResponse, authenticate: true, cancellationToken).ConfigureAwait(false);
        return new LobbyInfo(lobby!.LobbyId, lobby.LobbyAddr.Host, lobby.LobbyAddr.Port, lobby.GameId, status == HttpStatusCode.Created);
    }

    private async Task<T> GetAsync<T>(string path, JsonTypeInfo<T> body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        return await SendAsync(request, body, authenticate: true, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> SendAsync<T>(HttpRequestMessage request, JsonTypeInfo<T> body, bool authenticate, CancellationToken cancellationToken) =>
        (await SendCoreAsync(request, body, authenticate, cancellationToken).ConfigureAwait(false)).Body
        ?? throw new PaperclipApiException($"The server at {Server.OriginalString} sent no answer where one was expected.");

    // The answer read as body says (none when body is null), or the error it is.
    private async Task<(T? Body, HttpStatusCode Status)> SendCoreAsync<T>(HttpRequestMessage request, JsonTypeInfo<T>? body, bool authenticate, CancellationToken cancellationToken)
    {
        if (authenticate)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await GetTokenAsync(cancellationToken).ConfigureAwait(false));
        using var response = await SendRawAsync(request, cancellationToken).ConfigureAwait(false);
        await ThrowIfErrorAsync(response, cancellationToken).ConfigureAwait(false);
        if (body is null)
            return (default, response.StatusCode);
        try
        {
            return (await response.Content.ReadFromJsonAsync(body, cancellationToken).ConfigureAwait(false), response.StatusCode);
        }
        catch (JsonException e)
        {
            throw new PaperclipApiException($"The server at {Server.OriginalString} sent an answer this client does not understand: {e.Message}", e);
        }
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new ServerUnreachableException(Server, e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ServerUnreachableException(Server, e); // HttpClient.Timeout
        }
    }

    private async Task<string> GetTokenAsync(CancellationToken cancellationToken)
    {
        if (Username is null || _password is null)
            throw new InvalidOperationException("Log in first.");
        await _tokenLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_token is null || _time.GetUtcNow() >= _tokenExpires - RenewBefore)
                await FetchTokenAsync(Username, _password, cancellationToken).ConfigureAwait(false);
            return _token!;
        }
        finally
        {
            _tokenLock.Release();
        }
    }

    private async Task<TokenResponse> FetchTokenAsync(string username, string password, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "auth/token");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}")));
        var token = await SendAsync(request, Json.TokenResponse, authenticate: false, cancellationToken).ConfigureAwait(false);
        _token = token.Token;
        _tokenExpires = _time.GetUtcNow().AddSeconds(token.ExpiresIn);
        AccountId = ReadAccountId(token.Token);
        return token;
    }

    // The token's "sub" claim is the account id; reading it needs no signature check here.
    private static long? ReadAccountId(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
            return null;
        try
        {
            var payload = parts[1].Replace('-', '+').Replace('_', '/');
            payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
            using var json = JsonDocument.Parse(Convert.FromBase64String(payload));
            return json.RootElement.TryGetProperty("sub", out var sub) && long.TryParse(sub.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                ? id
                : null;
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }
    }

    private static async Task ThrowIfErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
            return;
        string title = response.ReasonPhrase ?? response.StatusCode.ToString();
        string? detail = null;
        try
        {
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (bytes.Length > 0 && JsonSerializer.Deserialize(bytes, Json.ProblemResponse) is { } problem)
            {
                title = problem.Title ?? title;
                detail = problem.Detail;
            }
        }
        catch (JsonException)
        {
            // Not problem+json (a proxy's page): the status line is all we have.
        }
        var retryAfter = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow,
            _ => (TimeSpan?)null,
        };
        throw new PaperclipApiException(response.StatusCode, title, detail, retryAfter);
    }
}
