using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Paperclip.Backend.Data;
using Paperclip.Backend.Security;

namespace Paperclip.Backend.Operations;

/// <summary>
/// The admin role: an account named in <c>Paperclip:Admins</c>, or one granted it in the database
/// (<see cref="SetAdminAsync"/>, run by <c>Paperclip.Server admin grant</c>). Nobody is an admin by default.
/// </summary>
public sealed class AdminAccess(PaperclipDbContext db, IOptions<PaperclipOptions> options)
{
    /// <summary>The authorization policy of the console's API.</summary>
    public const string PolicyName = "PaperclipAdmin";

    /// <summary>True when the account is an admin, by configuration or in the database.</summary>
    public async Task<bool> IsAdminAsync(long accountId, string username, CancellationToken cancellationToken)
    {
        if (options.Value.Admins.Any(a => string.Equals(a.Trim(), username, StringComparison.OrdinalIgnoreCase)))
            return true;
        return await db.Accounts.AsNoTracking().AnyAsync(a => a.Id == accountId && a.IsAdmin, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Grants or revokes the role in the database; false when there is no such account.</summary>
    public async Task<bool> SetAdminAsync(string username, bool isAdmin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(username);
        var normalized = username.ToLowerInvariant();
        var account = await db.Accounts.FirstOrDefaultAsync(a => a.NormalizedUsername == normalized, cancellationToken).ConfigureAwait(false);
        if (account is null)
            return false;
        account.IsAdmin = isAdmin;
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The accounts granted the role in the database (not those of the configuration).</summary>
    public async Task<IReadOnlyList<string>> ListGrantedAsync(CancellationToken cancellationToken) =>
        await db.Accounts.AsNoTracking().Where(a => a.IsAdmin).OrderBy(a => a.NormalizedUsername).Select(a => a.Username)
            .ToListAsync(cancellationToken).ConfigureAwait(false);
}

/// <summary>What the console's policy requires: an admin.</summary>
public sealed class AdminRequirement : IAuthorizationRequirement;

/// <summary>Checks <see cref="AdminRequirement"/> for an authenticated account (on every request: a revoked grant takes effect at once).</summary>
public sealed class AdminAuthorizationHandler(AdminAccess access) : AuthorizationHandler<AdminRequirement>
{
    /// <inheritdoc />
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, AdminRequirement requirement)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.User.Identity?.IsAuthenticated != true)
            return;
        var cancellationToken = (context.Resource as Microsoft.AspNetCore.Http.HttpContext)?.RequestAborted ?? CancellationToken.None;
        if (await access.IsAdminAsync(context.User.GetAccountId(), context.User.GetUsername(), cancellationToken).ConfigureAwait(false))
            context.Succeed(requirement);
    }
}
