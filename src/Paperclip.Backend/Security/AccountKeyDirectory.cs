using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Paperclip.Backend.Data;

namespace Paperclip.Backend.Security;

/// <summary>An account's public key and username, as a game server checks a certificate against them.</summary>
/// <param name="AccountId">The account.</param>
/// <param name="PublicKey">The account's public key (SubjectPublicKeyInfo).</param>
/// <param name="Username">The account's username.</param>
public sealed record AccountPublicKey(long AccountId, byte[] PublicKey, string Username);

/// <summary>
/// Where game servers look up the keys of the accounts that connect to them: the one thing they
/// need of the accounts, without knowing where accounts are kept.
/// </summary>
public interface IAccountKeyDirectory
{
    /// <summary>The account's key, or null when there is no such account (or it has no key).</summary>
    ValueTask<AccountPublicKey?> FindAsync(long accountId, CancellationToken cancellationToken = default);
}

/// <summary>The account-key directory read from the backend's database.</summary>
public sealed class DatabaseAccountKeyDirectory(IServiceScopeFactory scopes) : IAccountKeyDirectory
{
    /// <inheritdoc />
    public async ValueTask<AccountPublicKey?> FindAsync(long accountId, CancellationToken cancellationToken = default)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PaperclipDbContext>();
        var row = await db.Accounts.AsNoTracking()
            .Where(a => a.Id == accountId)
            .Select(a => new { a.PublicKey, a.Username })
            .SingleOrDefaultAsync(cancellationToken).ConfigureAwait(false);
        return row?.PublicKey is { } key ? new AccountPublicKey(accountId, key, row.Username) : null;
    }
}
