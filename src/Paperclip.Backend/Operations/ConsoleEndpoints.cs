using System.Reflection;
using System.Security.Claims;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Paperclip.Backend.Data;
using Paperclip.Backend.Http;
using Paperclip.Backend.Lobbies;
using Paperclip.Backend.Security;

namespace Paperclip.Backend.Operations;

/// <summary>
/// The operator's console: its page and scripts at <c>/console</c> (committed static files,
/// embedded in this assembly; no CDN), and its API at <c>/console/api/…</c> for admins only.
/// </summary>
/// <remarks>
/// The page holds no data: everything comes from the API, which is authenticated like the
/// rest (a bearer token the page got from <c>/auth/token</c>, kept in the tab's session
/// storage) and authorized by <see cref="AdminAccess"/>. No cookie is ever set or read, so a
/// request another site makes the browser send carries no credentials: nothing to forge (CSRF).
/// The page's Content-Security-Policy admits scripts from this server only and no framing.
/// Nothing the API answers is a secret: no keys, tokens or hashes.
/// </remarks>
public static class ConsoleEndpoints
{
    private const string ResourcePrefix = "Paperclip.Backend.Operations.console.";
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Dictionary<string, string> Files = new(StringComparer.Ordinal)
    {
        ["index.html"] = "text/html; charset=utf-8",
        ["console.js"] = "text/javascript; charset=utf-8",
        ["console.css"] = "text/css; charset=utf-8",
    };

    /// <summary>Maps <c>/console</c> and <c>/console/api</c>.</summary>
    public static IEndpointRouteBuilder MapConsoleEndpoints(this IEndpointRouteBuilder routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        routes.MapGet("/console", () => File("index.html")).ExcludeFromDescription();
        routes.MapGet("/console/{file}", (string file) => File(file)).ExcludeFromDescription();

        var api = routes.MapGroup("/console/api").RequireAuthorization(AdminAccess.PolicyName).ExcludeFromDescription();
        api.MapGet("/me", (ClaimsPrincipal user) => TypedResults.Ok(new ConsoleMe(user.GetAccountId(), user.GetUsername())));
        api.MapGet("/lobbies", LobbiesAsync);
        api.MapGet("/metrics", (ConsoleMetrics metrics) => TypedResults.Ok(ConsoleTotals.From(metrics.Read())));
        api.MapPost("/lobbies/{lobbyId:long}/close", CloseAsync);
        api.MapPost("/lobbies/{lobbyId:long}/players/{accountId:long}/remove", RemovePlayer);
        return routes;
    }

    private static IResult File(string name)
    {
        if (!Files.TryGetValue(name, out var contentType))
            return Problems.NotFound($"There is no console file {name}.");
        var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourcePrefix + name)
            ?? throw new InvalidOperationException($"The console file {name} is not embedded.");
        return new ConsoleFile(stream, contentType);
    }

    private static async Task<Ok<ConsoleLobby[]>> LobbiesAsync(HttpContext context, ILobbyRegistry registry, PaperclipDbContext db)
    {
        var host = context.RequestServices.GetService<ILobbyConsole>();
        var lobbies = await registry.ListAsync(context.RequestAborted).ConfigureAwait(false);
        var ids = lobbies.SelectMany(l => l.Members.Concat(l.Reservations)).Distinct().ToArray();
        var names = await db.Accounts.AsNoTracking().Where(a => ids.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.Username, context.RequestAborted).ConfigureAwait(false);
        return TypedResults.Ok(lobbies.Select(lobby =>
        {
            var sessions = host?.Sessions(lobby.LobbyId).ToDictionary(s => s.AccountId) ?? [];
            return new ConsoleLobby(
                lobby.LobbyId,
                lobby.Game.Name,
                BackendMetrics.StateOf(lobby),
                lobby.Address.Host,
                lobby.Address.Port,
                lobby.Size,
                lobby.CreatedAt,
                [.. lobby.Members.Select(id => new ConsoleMember(id, names.GetValueOrDefault(id, $"#{id}"), sessions.TryGetValue(id, out var s) ? ConsoleSession.From(s) : null))],
                [.. lobby.Reservations.Select(id => names.GetValueOrDefault(id, $"#{id}"))]);
        }).ToArray());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> CloseAsync(long lobbyId, ILobbyRegistry registry, CancellationToken cancellationToken) =>
        await registry.RemoveAsync(lobbyId, cancellationToken).ConfigureAwait(false) is null
            ? Problems.NotFound($"There is no lobby {lobbyId}.")
            : TypedResults.NoContent();

    private static Results<NoContent, ProblemHttpResult> RemovePlayer(long lobbyId, long accountId, HttpContext context) =>
        context.RequestServices.GetService<ILobbyConsole>()?.RemovePlayer(lobbyId, accountId) == true
            ? TypedResults.NoContent()
            : Problems.NotFound($"Account {accountId} is not connected to lobby {lobbyId}.");

    // An embedded file with the console's security headers; never cached stale (it changes with the server).
    private sealed class ConsoleFile(Stream stream, string contentType) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            await using var _ = stream.ConfigureAwait(false);
            var headers = httpContext.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers.CacheControl = "no-cache";
            httpContext.Response.ContentType = contentType;
            httpContext.Response.ContentLength = stream.Length;
            await stream.CopyToAsync(httpContext.Response.Body, httpContext.RequestAborted).ConfigureAwait(false);
        }
    }
}

/// <summary>The signed-in admin.</summary>
public sealed record ConsoleMe(long AccountId, string Username);

/// <summary>A lobby on the console.</summary>
public sealed record ConsoleLobby(long LobbyId, string Game, string State, string Host, int Port, int Size, DateTimeOffset CreatedAt, IReadOnlyList<ConsoleMember> Members, IReadOnlyList<string> Reservations);

/// <summary>A lobby member; <paramref name="Session"/> is null when its game server is not in this process.</summary>
public sealed record ConsoleMember(long AccountId, string Username, ConsoleSession? Session);

/// <summary>A member's session: RTT, loss (reliable messages resent per message sent), bytes, since when.</summary>
public sealed record ConsoleSession(double RttMs, double LossPercent, long Dropped, long BytesSent, long BytesReceived, DateTimeOffset ConnectedSince)
{
    /// <summary>From the game server's view of the session.</summary>
    public static ConsoleSession From(PlayerSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return new(
            Math.Round(session.RoundTripTime.TotalMilliseconds, 2),
            session.MessagesSent == 0 ? 0 : Math.Round(100.0 * session.Retransmissions / session.MessagesSent, 2),
            session.Dropped,
            session.BytesSent,
            session.BytesReceived,
            session.ConnectedSince);
    }
}

/// <summary>The running totals the charts are drawn from (the page turns them into rates).</summary>
public sealed record ConsoleTotals(long MessagesReceived, long MessagesSent, long HandshakesCompleted, long HandshakesFailed, long LoginsSucceeded, long LoginsFailed, long LoginsThrottled, long Sessions)
{
    /// <summary>From <see cref="ConsoleMetrics.Read"/>.</summary>
    public static ConsoleTotals From(IReadOnlyDictionary<string, long> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        long Sum(string prefix) => values.Where(v => v.Key == prefix || v.Key.StartsWith(prefix + "{", StringComparison.Ordinal)).Sum(v => v.Value);
        return new(
            values.GetValueOrDefault("paperclip.transport.messages{receive}"),
            values.GetValueOrDefault("paperclip.transport.messages{transmit}"),
            values.GetValueOrDefault("paperclip.transport.handshakes.completed"),
            Sum("paperclip.transport.handshakes.failed"),
            values.GetValueOrDefault("paperclip.backend.logins{succeeded}"),
            values.GetValueOrDefault("paperclip.backend.logins{failed}"),
            values.GetValueOrDefault("paperclip.backend.logins{throttled}"),
            values.GetValueOrDefault("paperclip.transport.sessions"));
    }
}

/// <summary>The console API's JSON, generated at build time.</summary>
[JsonSerializable(typeof(ConsoleMe))]
[JsonSerializable(typeof(ConsoleLobby[]))]
[JsonSerializable(typeof(ConsoleTotals))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.KebabCaseLower)]
public sealed partial class ConsoleJsonContext : JsonSerializerContext;
