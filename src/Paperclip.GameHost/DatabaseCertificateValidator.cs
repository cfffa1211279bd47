using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Paperclip.Backend.Data;
using Paperclip.Protocol.Certificates;
using Paperclip.Transport;

namespace Paperclip.GameHost;

/// <summary>
/// Checks account certificates against the accounts in the backend's own database (protocol
/// §5.3), with the account's key and username cached for a minute, so a handshake costs no
/// HTTP call and, for a returning player, no query.
/// </summary>
public sealed class DatabaseCertificateValidator(IServiceScopeFactory scopes, TimeProvider time) : ICertificateValidator
{
    private static readonly TimeSpan CacheDuration = TimeSpan.FromMinutes(1);
    private const int MaxCacheEntries = 100_000;
    private readonly ConcurrentDictionary<long, CachedAccount> _cache = new();
    private readonly CertificateValidationCache _verified = new();

    /// <inheritdoc />
    public async ValueTask<ClientIdentity?> ValidateAsync(ReadOnlyMemory<byte> certificate, CancellationToken cancellationToken)
    {
        if (!AccountCertificate.TryReadIdentity(certificate.Span, out var claimed))
            return null;
        var now = time.GetUtcNow();
        if (!_cache.TryGetValue(claimed.AccountId, out var account) || account.Expires <= now)
        {
            account = await LoadAsync(claimed.AccountId, now, cancellationToken).ConfigureAwait(false);
            if (_cache.Count >= MaxCacheEntries)
                _cache.Clear();
            _cache[claimed.AccountId] = account;
        }
        return account.PublicKey is not null && _verified.Validate(certificate.Span, account.PublicKey, now)
            ? new ClientIdentity(claimed.AccountId, account.Username!)
            : null;
    }

    private async Task<CachedAccount> LoadAsync(long accountId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PaperclipDbContext>();
        var row = await db.Accounts.AsNoTracking()
            .Where(a => a.Id == accountId)
            .Select(a => new { a.PublicKey, a.Username })
            .SingleOrDefaultAsync(cancellationToken).ConfigureAwait(false);
        return new CachedAccount(row?.PublicKey, row?.Username, now + CacheDuration);
    }

    private sealed record CachedAccount(byte[]? PublicKey, string? Username, DateTimeOffset Expires);
}
