using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Microsoft.Extensions.Options;

namespace Paperclip.Backend.Security;

/// <summary>An issued token.</summary>
/// <param name="Token">The JWT.</param>
/// <param name="ExpiresIn">Seconds until it expires.</param>
public readonly record struct IssuedToken(string Token, int ExpiresIn);

/// <summary>Issues and validates the session tokens: HS256 JWTs with the account id, checked against the injected clock.</summary>
public sealed class TokenService
{
    /// <summary>The claim that carries the account id.</summary>
    public const string AccountIdClaim = JwtRegisteredClaimNames.Sub;

    /// <summary>The claim that carries the user name.</summary>
    public const string UsernameClaim = JwtRegisteredClaimNames.Name;

    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false, MapInboundClaims = false };
    private readonly SigningCredentials _credentials;
    private readonly TokenValidationParameters _validation;
    private readonly TimeProvider _time;
    private readonly TimeSpan _lifetime;
    private readonly string _issuer;

    /// <summary>Creates the service with the signing secret from <paramref name="secrets"/>.</summary>
    public TokenService(SecretStore secrets, IOptions<PaperclipOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        var auth = options.Value.Auth;
        _lifetime = auth.TokenLifetime;
        _issuer = auth.Issuer;
        var key = new SymmetricSecurityKey(secrets.LoadSigningKey()) { KeyId = "paperclip" };
        _credentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256);
        _validation = new TokenValidationParameters
        {
            ValidIssuer = _issuer,
            ValidAudience = _issuer,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            IssuerSigningKey = key,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            ClockSkew = TimeSpan.Zero,
            LifetimeValidator = ValidateLifetime,
            NameClaimType = UsernameClaim,
        };
    }

    /// <summary>The token lifetime.</summary>
    public TimeSpan Lifetime => _lifetime;

    /// <summary>Issues a token for an account.</summary>
    public IssuedToken Issue(long accountId, string username)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = _issuer,
            Audience = _issuer,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + _lifetime,
            SigningCredentials = _credentials,
            Claims = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                [AccountIdClaim] = accountId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                [UsernameClaim] = username,
            },
        };
        return new IssuedToken(_handler.CreateToken(descriptor), (int)_lifetime.TotalSeconds);
    }

    /// <summary>Validates a token; null when it is not valid now.</summary>
    public async ValueTask<ClaimsIdentity?> ValidateAsync(string token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 4096)
        {
            return null;
        }

        var result = await _handler.ValidateTokenAsync(token, _validation).ConfigureAwait(false);
        if (!result.IsValid || result.ClaimsIdentity is not { } identity)
        {
            return null;
        }

        return long.TryParse(identity.FindFirst(AccountIdClaim)?.Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)
            ? identity
            : null;
    }

    private bool ValidateLifetime(DateTime? notBefore, DateTime? expires, SecurityToken token, TokenValidationParameters parameters)
    {
        if (expires is null)
        {
            return false;
        }

        var now = _time.GetUtcNow().UtcDateTime;
        return (notBefore is null || now >= notBefore.Value.ToUniversalTime()) && now < expires.Value.ToUniversalTime();
    }
}
