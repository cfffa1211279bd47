using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

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
    public async Task<AccountInfo> RegisterAsync(string username, string password, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "auth/register")
        {
            Content = JsonContent.Create(new Dictionary<string, string> { ["username"] = username, ["password"] = password }),
        };
        return await SendAsync<AccountInfo>(request, authenticate: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Logs in (<c>GET /auth/token</c> with Basic username:password) and keeps the token for later calls.</summary>
    /// <exception cref="PaperclipApiException">401 wrong username or password; 429 too many failed logins.</exception>
    public async Task<TokenInfo> LoginAsync(string username, string password, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(username);
        ArgumentNullException.ThrowIfNull(password);
        var token = await FetchTokenAsync(username, password, cancellationToken).ConfigureAwait(false);
        Username = username;
        _password = password;
        return token;
    }

    /// <summary>The account's private key, encrypted with its password (<c>GET /auth/key</c>).</summary>
    public async Task<AccountKeyInfo> GetAccountKeyAsync(CancellationToken cancellationToken = default) =>
        await GetAsync<AccountKeyInfo>("auth/key", cancellationToken).ConfigureAwait(false);

    /// <summary>The backend's server public key, SubjectPublicKeyInfo DER (<c>GET /auth/server-key</c>).</summary>
    public async Task<byte[]> GetServerKeyAsync(CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "auth/server-key");
        var body = await SendAsync<JsonElement>(request, authenticate: false, cancellationToken).ConfigureAwait(false);
        return Convert.FromBase64String(body.GetProperty("key").GetString() ?? "");
    }

    // ------------------------------------------------------------------ friends

    /// <summary>The friends of the logged-in account (<c>GET /friends/</c>).</summary>
    public async Task<IReadOnlyList<FriendInfo>> GetFriendsAsync(CancellationToken cancellationToken = default)
    {
        var body = await GetAsync<JsonElement>("friends/", cancellationToken).ConfigureAwait(false);
        return body.GetProperty("friends").Deserialize<List<FriendInfo>>() ?? [];
    }

    /// <summary>Befriends <paramref name="username"/> (<c>POST /friends/add</c>); returns the friend.</summary>
    public async Task<FriendInfo> AddFriendAsync(string username, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "friends/add") { Content = UsernameBody(username) };
        var body = await SendAsync<JsonElement>(request, authenticate: true, cancellationToken).ConfigureAwait(false);
        return body.GetProperty("other").Deserialize<FriendInfo>()!;
    }

    /// <summary>Ends the friendship with <paramref name="username"/> (<c>DELETE /friend/remove</c>).</summary>
    public async Task RemoveFriendAsync(string username, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, "friend/remove") { Content = UsernameBody(username) };
        await SendAsync<JsonElement>(request, authenticate: true, cancellationToken).ConfigureAwait(false);
    }

    // ------------------------------------------------------------------ games

    /// <summary>The games catalogue (<c>GET /games/</c>), by id.</summary>
    public async Task<IReadOnlyList<GameInfo>> GetGamesAsync(CancellationToken cancellationToken = default)
    {
        var body = await GetAsync<Dictionary<string, string>>("games/", cancellationToken).ConfigureAwait(false);
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
    public async Task<IReadOnlyList<LobbySummary>> GetLobbiesAsync(CancellationToken cancellationToken = default)
    {
        var body = await GetAsync<JsonElement>("lobby/all", cancellationToken).ConfigureAwait(false);
        var lobbies = new List<LobbySummary>();
        foreach (var lobby in body.EnumerateObject())
        {
            var value = lobby.Value;
            var game = value.GetProperty("game");
            lobbies.Add(new LobbySummary(
                long.Parse(lobby.Name, CultureInfo.InvariantCulture),
                game.GetProperty("game-id").GetInt64(),
                game.GetProperty("game-name").GetString() ?? "",
                value.GetProperty("size").GetInt32(),
                value.GetProperty("members").GetInt32(),
                value.GetProperty("is-full").GetBoolean()));
        }
        return [.. lobbies.OrderBy(l => l.LobbyId)];
    }

    /// <summary>The members (account ids) of every lobby (<c>GET /lobby/members</c>), by lobby id.</summary>
    public async Task<IReadOnlyDictionary<long, IReadOnlyList<long>>> GetLobbyMembersAsync(CancellationToken cancellationToken = default)
    {
        var body = await GetAsync<Dictionary<string, long[]>>("lobby/members", cancellationToken).ConfigureAwait(false);
        return body.ToDictionary(p => long.Parse(p.Key, CultureInfo.InvariantCulture), p => (IReadOnlyList<long>)p.Value);
    }

    /// <summary>Friends who are in lobbies with space, and those lobbies (<c>GET /lobby/friends</c>).</summary>
    public async Task<IReadOnlyList<FriendInLobbies>> GetFriendsLobbiesAsync(CancellationToken cancellationToken = default)
    {
        var body = await GetAsync<JsonElement>("lobby/friends", cancellationToken).ConfigureAwait(false);
        var result = new List<FriendInLobbies>();
        foreach (var entry in body.EnumerateArray())
        {
            var account = entry.GetProperty("account");
            result.Add(new FriendInLobbies(
                account.GetProperty("account-id").GetInt64(),
                account.GetProperty("username").GetString() ?? "",
                entry.GetProperty("lobbies").Deserialize<List<FriendLobby>>() ?? []));
        }
        return result;
    }

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

    private static JsonContent UsernameBody(string username) =>
        JsonContent.Create(new Dictionary<string, string> { ["username"] = username });

    private static JsonContent GameBody(string game) =>
        long.TryParse(game, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? JsonContent.Create(new Dictionary<string, long> { ["game-id"] = id })
            : JsonContent.Create(new Dictionary<string, string> { ["game-name"] = game });

    private async Task<LobbyInfo> SendLobbyAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var (body, status) = await SendCoreAsync<JsonElement>(request, authenticate: true, cancellationToken).ConfigureAwait(false);
        var address = body.GetProperty("lobby-addr");
        return new LobbyInfo(
            body.GetProperty("lobby-id").GetInt64(),
            address[0].GetString() ?? "127.0.0.1",
            address[1].GetInt32(),
            body.GetProperty("game-id").GetInt64(),
            status == HttpStatusCode.Created);
    }

    private async Task<T> GetAsync<T>(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        return await SendAsync<T>(request, authenticate: true, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> SendAsync<T>(HttpRequestMessage request, bool authenticate, CancellationToken cancellationToken) =>
        (await SendCoreAsync<T>(request, authenticate, cancellationToken).ConfigureAwait(false)).Body;

    private async Task<(T Body, HttpStatusCode Status)> SendCoreAsync<T>(HttpRequestMessage request, bool authenticate, CancellationToken cancellationToken)
    {
        if (authenticate)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await GetTokenAsync(cancellationToken).ConfigureAwait(false));
        using var response = await SendRawAsync(request, cancellationToken).ConfigureAwait(false);
        await ThrowIfErrorAsync(response, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NoContent || response.Content.Headers.ContentLength == 0)
            return (default!, response.StatusCode);
        try
        {
            var body = await response.Content.ReadFromJsonAsync<T>(cancellationToken).ConfigureAwait(false);
            return (body!, response.StatusCode);
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

    private async Task<TokenInfo> FetchTokenAsync(string username, string password, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "auth/token");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}")));
        var token = await SendAsync<TokenInfo>(request, authenticate: false, cancellationToken).ConfigureAwait(false);
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
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (text.Length > 0)
            {
                using var problem = JsonDocument.Parse(text);
                if (problem.RootElement.ValueKind == JsonValueKind.Object)
                {
                    if (problem.RootElement.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String)
                        title = t.GetString()!;
                    if (problem.RootElement.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String)
                        detail = d.GetString();
                }
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
