using System.Collections.Concurrent;
using Paperclip.Backend.Security;
using Paperclip.Protocol.Certificates;
using Paperclip.Transport;

namespace Paperclip.GameHost;

/// <summary>
/// Checks account certificates (protocol §5.3) against the keys of an
/// <see cref="IAccountKeyDirectory"/>, with the account's key and username cached for a minute,
/// so a handshake costs, for a returning player, no lookup.
/// </summary>
public sealed class AccountCertificateValidator(IAccountKeyDirectory directory, TimeProvider time) : ICertificateValidator
{
    private static readonly TimeSpan CacheDuration = TimeSpan.FromMinutes(1);
    private const int MaxCacheEntries = 100_000;
    private readonly ConcurrentDictionary<long, CachedAccount> _cache = new();

    /// <inheritdoc />
    public async ValueTask<ClientIdentity?> ValidateAsync(ReadOnlyMemory<byte> certificate, CancellationToken cancellationToken)
    {
        if (!AccountCertificate.TryReadIdentity(certificate.Span, out var claimed))
            return null;
        var now = time.GetUtcNow();
        if (!_cache.TryGetValue(claimed.AccountId, out var account) || account.Expires <= now)
        {
            var key = await directory.FindAsync(claimed.AccountId, cancellationToken).ConfigureAwait(false);
            account = new CachedAccount(key, now + CacheDuration);
            if (_cache.Count >= MaxCacheEntries)
                _cache.Clear();
            _cache[claimed.AccountId] = account;
        }
        return account.Key is { } found && AccountCertificate.Validate(certificate.Span, found.PublicKey, now)
            ? new ClientIdentity(claimed.AccountId, found.Username)
            : null;
    }

    private sealed record CachedAccount(AccountPublicKey? Key, DateTimeOffset Expires);
}
