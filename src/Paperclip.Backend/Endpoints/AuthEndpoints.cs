using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.OpenApi;
using Paperclip.Backend.Data;
using Paperclip.Backend.Http;
using Paperclip.Backend.OpenApi;
using Paperclip.Backend.Security;
using Paperclip.Contracts;
using Paperclip.Protocol.Certificates;

namespace Paperclip.Backend.Endpoints;

/// <summary>Accounts, tokens, keys and certificates: <c>/auth/…</c>.</summary>
public static class AuthEndpoints
{
    /// <summary>Maps the <c>/auth</c> group.</summary>
    public static IEndpointRouteBuilder MapAuthEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/auth").WithTags("Accounts and keys");
        group.MapPost("/register", RegisterAsync)
            .WithName("Register")
            .WithSummary("Registers an account and creates its key pair.")
            .Accepts<RegisterRequest>("application/json")
            .WithResponseDescription(StatusCodes.Status201Created, "The account is created.")
            .WithBodyProblems("A missing or empty field, a bad username (1–32 letters, digits, '_', '-', '.') or a password that is too long.")
            .WithProblem(StatusCodes.Status409Conflict, "The username is taken (usernames are case-insensitive).");
        group.MapGet("/token", IssueToken)
            .RequireAccount()
            .WithName("IssueToken")
            .WithSummary("Issues a session token (JWT).");
        group.MapGet("/key", GetKeyAsync)
            .RequireAccount()
            .WithName("GetPrivateKey")
            .WithSummary("The account's private key: PKCS#8 EncryptedPrivateKeyInfo DER, base64, encrypted with the password.")
            .WithProblem(StatusCodes.Status404NotFound, "The account of the token no longer exists.");
        group.MapGet("/certificate/validate", ValidateCertificateAsync)
            .WithName("ValidateCertificateFromQuery")
            .WithSummary("Checks an account or server certificate given in the query (protocol.md §5.3).")
            .WithQueryParameter("certificate", JsonSchemaType.String, "The certificate: base64 (or base64url) DER.", required: true)
            .WithInputProblems("The certificate is missing or not base64 DER of an X.509 certificate.");
        group.MapPost("/certificate/validate", ValidateCertificateAsync)
            .WithName("ValidateCertificate")
            .WithSummary("Checks an account or server certificate (protocol.md §5.3).")
            .Accepts<CertificateValidationRequest>("application/json")
            .WithBodyProblems("The certificate is missing or not base64 DER of an X.509 certificate.");
        group.MapGet("/server-key", (ServerKeyService key) => TypedResults.Ok(new ServerKeyResponse(key.PublicKeyBase64)))
            .WithName("GetServerKey")
            .WithSummary("The backend's server public key: SubjectPublicKeyInfo DER, base64.");
        return routes;
    }

    private static async Task<Results<Created<RegisterResponse>, ProblemHttpResult>> RegisterAsync(
        Input<RegisterRequest> input, AccountService accounts, CancellationToken cancellationToken)
    {
        var (username, password) = input.Value;
        if (!AccountService.IsValidUsername(username))
        {
            return Problems.BadRequest("A username is 1–32 characters of letters, digits, '_', '-' and '.'.");
        }

        if (password.Length > AccountService.MaxPasswordLength)
        {
            return Problems.BadRequest($"A password is at most {AccountService.MaxPasswordLength} characters.");
        }

        var (status, account) = await accounts.RegisterAsync(username, password, cancellationToken).ConfigureAwait(false);
        return status == RegistrationStatus.Created
            ? TypedResults.Created((string?)null, new RegisterResponse(account!.Id, account.Username))
            : Problems.Conflict($"The username '{username}' is taken.");
    }

    private static Ok<TokenResponse> IssueToken(ClaimsPrincipal user, TokenService tokens)
    {
        var issued = tokens.Issue(user.GetAccountId(), user.GetUsername());
        return TypedResults.Ok(new TokenResponse(issued.Token, issued.ExpiresIn));
    }

    private static async Task<Results<Ok<KeyResponse>, ProblemHttpResult>> GetKeyAsync(ClaimsPrincipal user, PaperclipDbContext db, CancellationToken cancellationToken)
    {
        var id = user.GetAccountId();
        var key = await db.Accounts.AsNoTracking().Where(a => a.Id == id).Select(a => a.EncryptedPrivateKey)
            .FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
        return key is null
            ? Problems.NotFound("The account no longer exists.")
            : TypedResults.Ok(new KeyResponse(Convert.ToBase64String(key), id));
    }

    private static async Task<Results<Ok<CertificateValidationResponse>, ProblemHttpResult>> ValidateCertificateAsync(
        Input<CertificateValidationRequest> input, PaperclipDbContext db, ServerKeyService serverKey, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!TryDecodeCertificate(input.Value.Certificate, out var der))
        {
            return Problems.BadRequest("The certificate is not base64 DER of an X.509 certificate.");
        }

        var now = time.GetUtcNow();
        if (!AccountCertificate.TryReadIdentity(der, out var identity) || identity is null)
        {
            if (ServerCertificate.HasAccountId(der))
            {
                // A UID that is not an account id: not a valid account certificate.
                return TypedResults.Ok(new CertificateValidationResponse(false, null));
            }

            return TypedResults.Ok(new CertificateValidationResponse(serverKey.Validate(der, now), null));
        }

        var accountId = identity.AccountId;
        var publicKey = await db.Accounts.AsNoTracking().Where(a => a.Id == accountId).Select(a => a.PublicKey)
            .FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
        var valid = publicKey is not null && AccountCertificate.Validate(der, publicKey, now);
        return TypedResults.Ok(new CertificateValidationResponse(valid, valid ? accountId : null));
    }

    /// <summary>Decodes the base64 (or base64url) DER of a certificate; false for anything that is not one.</summary>
    internal static bool TryDecodeCertificate(string text, out byte[] der)
    {
        der = [];
        // Query strings turn '+' into ' '; base64url is accepted too.
        var normalized = text.Trim().Replace(' ', '+').Replace('-', '+').Replace('_', '/');
        if (normalized.Length % 4 != 0)
        {
            normalized = normalized.PadRight(normalized.Length + (4 - (normalized.Length % 4)), '=');
        }

        try
        {
            der = Convert.FromBase64String(normalized);
            using var certificate = X509CertificateLoader.LoadCertificate(der);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return false;
        }
    }
}
