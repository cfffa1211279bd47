using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Paperclip.Backend.Data;
using Paperclip.Protocol.Certificates;

namespace Paperclip.Backend.Security;

/// <summary>The outcome of a registration.</summary>
public enum RegistrationStatus
{
    /// <summary>The account was created.</summary>
    Created,

    /// <summary>The user name is taken (case-insensitively).</summary>
    UsernameTaken,
}

/// <summary>The outcome of a password check.</summary>
public enum LoginStatus
{
    /// <summary>The credentials are right.</summary>
    Success,

    /// <summary>Unknown user or wrong password (deliberately not told apart).</summary>
    InvalidCredentials,

    /// <summary>Too many failed logins for this user or address.</summary>
    Throttled,
}

/// <summary>The outcome of a password check.</summary>
public readonly record struct LoginResult(LoginStatus Status, long AccountId = 0, string? Username = null, TimeSpan RetryAfter = default);

/// <summary>Accounts: registration with a key pair, and password checks with throttling.</summary>
public sealed partial class AccountService(
    PaperclipDbContext db,
    PasswordHasher hasher,
    LoginThrottle throttle,
    CredentialCache cache,
    TimeProvider time)
{
    /// <summary>The longest accepted password (characters).</summary>
    public const int MaxPasswordLength = 1024;

    /// <summary>True when <paramref name="username"/> is 1–32 letters, digits, <c>_</c>, <c>-</c> or <c>.</c>.</summary>
    public static bool IsValidUsername(string? username) => username is not null && UsernamePattern().IsMatch(username);

    /// <summary>The case-insensitive key of a user name.</summary>
    public static string Normalize(string username)
    {
        ArgumentNullException.ThrowIfNull(username);
        return username.ToLowerInvariant();
    }

    /// <summary>Creates an account with a new ECDSA P-256 key pair; the private key is kept only encrypted with the password.</summary>
    public async Task<(RegistrationStatus Status, Account? Account)> RegisterAsync(string username, string password, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(username);
        ArgumentNullException.ThrowIfNull(password);
        var normalized = Normalize(username);
        if (await db.Accounts.AsNoTracking().AnyAsync(a => a.NormalizedUsername == normalized, cancellationToken).ConfigureAwait(false))
        {
            return (RegistrationStatus.UsernameTaken, null);
        }

        var hash = hasher.Hash(password);
        byte[] publicKey;
        byte[] encryptedPrivateKey;
        using (var key = AccountKey.Generate(KeyAlgorithm.EcdsaP256))
        {
            publicKey = AccountKey.ExportPublicKey(key);
            encryptedPrivateKey = AccountKey.ExportEncrypted(key, password, Math.Clamp(hasher.Iterations, AccountKey.MinIterations, AccountKey.MaxIterations));
        }

        var account = new Account
        {
            Username = username,
            NormalizedUsername = normalized,
            PasswordHash = hash.Hash,
            PasswordSalt = hash.Salt,
            PasswordIterations = hash.Iterations,
            PublicKey = publicKey,
            EncryptedPrivateKey = encryptedPrivateKey,
            CreatedAt = time.GetUtcNow(),
        };
        db.Accounts.Add(account);
        try
        {
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            db.Entry(account).State = EntityState.Detached;
            return (RegistrationStatus.UsernameTaken, null);
        }

        db.Entry(account).State = EntityState.Detached;
        return (RegistrationStatus.Created, account);
    }

    /// <summary>
    /// Checks a user name and password. An unknown user costs the same hash time and gives the
    /// same answer as a wrong password. Failures count towards the throttle of the user name and
    /// of <paramref name="address"/>.
    /// </summary>
    public async Task<LoginResult> LoginAsync(string username, string password, string? address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(username);
        ArgumentNullException.ThrowIfNull(password);
        var normalized = Normalize(username.Length > 64 ? username[..64] : username);
        if (throttle.RetryAfter(normalized, address) is { } retryAfter)
        {
            return new LoginResult(LoginStatus.Throttled, RetryAfter: retryAfter);
        }

        if (cache.TryGet(normalized, password, out var cachedId, out var cachedName))
        {
            return new LoginResult(LoginStatus.Success, cachedId, cachedName);
        }

        var row = password.Length > MaxPasswordLength || !IsValidUsername(username)
            ? null
            : await FindCredentialsQuery.For(db)(db, normalized).ConfigureAwait(false);
        var ok = row is null
            ? hasher.VerifyDummy(password)
            : PasswordHasher.Verify(password, new PasswordHash(row.PasswordHash, row.PasswordSalt, row.PasswordIterations));
        if (!ok || row is null)
        {
            throttle.RecordFailure(normalized, address);
            return new LoginResult(LoginStatus.InvalidCredentials);
        }

        throttle.RecordSuccess(normalized);
        cache.Add(normalized, password, row.Id, row.Username);
        return new LoginResult(LoginStatus.Success, row.Id, row.Username);
    }

    private static readonly PerProvider<Func<PaperclipDbContext, string, Task<Credentials?>>> FindCredentialsQuery = new(() =>
        EF.CompileAsyncQuery((PaperclipDbContext context, string normalized) =>
            context.Accounts.AsNoTracking()
                .Where(a => a.NormalizedUsername == normalized)
                .Select(a => new Credentials(a.Id, a.Username, a.PasswordHash, a.PasswordSalt, a.PasswordIterations))
                .FirstOrDefault()));

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,32}$", RegexOptions.CultureInvariant)]
    private static partial Regex UsernamePattern();

    private sealed record Credentials(long Id, string Username, byte[] PasswordHash, byte[] PasswordSalt, int PasswordIterations);
}
