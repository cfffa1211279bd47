using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Paperclip.Backend.Security;

/// <summary>
/// The one authentication scheme of the API. It accepts <c>Basic base64(username:password)</c>,
/// <c>Basic base64(token:)</c> (the original design's form) and <c>Bearer token</c>. A failed
/// challenge is <c>401</c> problem+json with <c>WWW-Authenticate</c>; a throttled login is
/// <c>429</c> with <c>Retry-After</c>.
/// </summary>
public sealed partial class PaperclipAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    TokenService tokens,
    Operations.BackendMetrics metrics)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The scheme name.</summary>
    public const string SchemeName = "Paperclip";

    /// <summary>The <c>WWW-Authenticate</c> challenges.</summary>
    public static readonly string[] Challenges = ["Basic realm=\"Paperclip\", charset=\"UTF-8\"", "Bearer realm=\"Paperclip\""];

    private static readonly object RetryAfterKey = new();

    /// <inheritdoc />
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            return AuthenticateResult.NoResult();
        }

        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return await FromTokenAsync(header["Bearer ".Length..].Trim()).ConfigureAwait(false);
        }

        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.Fail("Unsupported authorization scheme.");
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
        }
        catch (FormatException)
        {
            return AuthenticateResult.Fail("Malformed Basic credentials.");
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        var user = colon < 0 ? decoded : decoded[..colon];
        var password = colon < 0 ? string.Empty : decoded[(colon + 1)..];
        if (password.Length == 0)
        {
            // Basic base64(token:) — the token as the user name and an empty password.
            return await FromTokenAsync(user).ConfigureAwait(false);
        }

        var accounts = Context.RequestServices.GetRequiredService<AccountService>();
        var address = Context.Connection.RemoteIpAddress?.ToString();
        var result = await accounts.LoginAsync(user, password, address, Context.RequestAborted).ConfigureAwait(false);
        metrics.Login(result.Status);
        switch (result.Status)
        {
            case LoginStatus.Success:
                return Success(result.AccountId, result.Username!, "Basic");
            case LoginStatus.Throttled:
                Context.Items[RetryAfterKey] = result.RetryAfter;
                LogThrottled(Logger, address);
                return AuthenticateResult.Fail("Too many failed logins.");
            default:
                LogLoginFailed(Logger, address);
                return AuthenticateResult.Fail("Invalid credentials.");
        }
    }

    /// <inheritdoc />
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var problems = Context.RequestServices.GetRequiredService<IProblemDetailsService>();
        if (Context.Items.TryGetValue(RetryAfterKey, out var value) && value is TimeSpan retryAfter)
        {
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = Context,
                ProblemDetails =
                {
                    Status = StatusCodes.Status429TooManyRequests,
                    Title = "Too many failed logins",
                    Detail = "Too many failed logins for this account or address; retry after the time in Retry-After.",
                },
            }).ConfigureAwait(false);
            return;
        }

        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.Append(HeaderNames.WWWAuthenticate, Challenges);
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails =
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Unauthorized",
                Detail = string.IsNullOrEmpty(Request.Headers.Authorization)
                    ? "Credentials are required: Basic username:password, Basic token: or Bearer token."
                    : "Invalid credentials.",
            },
        }).ConfigureAwait(false);
    }

    private async Task<AuthenticateResult> FromTokenAsync(string token)
    {
        var identity = await tokens.ValidateAsync(token).ConfigureAwait(false);
        if (identity is null)
        {
            return AuthenticateResult.Fail("Invalid or expired token.");
        }

        var id = long.Parse(identity.FindFirst(TokenService.AccountIdClaim)!.Value, CultureInfo.InvariantCulture);
        return Success(id, identity.FindFirst(TokenService.UsernameClaim)?.Value ?? string.Empty, "Token");
    }

    private static AuthenticateResult Success(long accountId, string username, string method)
    {
        var identity = new ClaimsIdentity(
            [
                new Claim(TokenService.AccountIdClaim, accountId.ToString(CultureInfo.InvariantCulture)),
                new Claim(TokenService.UsernameClaim, username),
                new Claim(ClaimTypes.AuthenticationMethod, method),
            ],
            SchemeName,
            TokenService.UsernameClaim,
            null);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Failed login from {Address}")]
    private static partial void LogLoginFailed(ILogger logger, string? address);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Login refused: too many failures (from {Address})")]
    private static partial void LogThrottled(ILogger logger, string? address);
}

/// <summary>Reads the account of an authenticated request.</summary>
public static class PrincipalExtensions
{
    /// <summary>The authenticated account id.</summary>
    public static long GetAccountId(this ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return long.Parse(principal.FindFirst(TokenService.AccountIdClaim)!.Value, CultureInfo.InvariantCulture);
    }

    /// <summary>The authenticated user name.</summary>
    public static string GetUsername(this ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return principal.FindFirst(TokenService.UsernameClaim)?.Value ?? string.Empty;
    }
}
