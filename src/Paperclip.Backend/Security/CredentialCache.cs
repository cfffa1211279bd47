using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Paperclip.Backend.Security;

/// <summary>
/// Remembers successful password checks for a short time so that clients that send
/// <c>Basic username:password</c> on every request do not pay PBKDF2 each time. Keyed by
/// HMAC-SHA256 of the credentials under a random per-process key: neither the password nor a
/// reusable hash of it is kept.
/// </summary>
public sealed class CredentialCache
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly TimeProvider _time;
    private readonly TimeSpan _lifetime;

    /// <summary>Creates the cache.</summary>
    public CredentialCache(IOptions<PaperclipOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _lifetime = options.Value.Auth.CredentialCacheLifetime;
    }

    /// <summary>The account that these credentials were last verified for, when still fresh.</summary>
    public bool TryGet(string normalizedUsername, string password, out long accountId, out string username)
    {
        accountId = 0;
        username = string.Empty;
        if (_lifetime <= TimeSpan.Zero)
        {
            return false;
        }

        var key = Key(normalizedUsername, password);
        if (_entries.TryGetValue(key, out var entry))
        {
            if (_time.GetUtcNow() < entry.Expires)
            {
                accountId = entry.AccountId;
                username = entry.Username;
                return true;
            }

            _entries.TryRemove(new KeyValuePair<string, Entry>(key, entry));
        }

        return false;
    }

    /// <summary>Remembers a successful check.</summary>
    public void Add(string normalizedUsername, string password, long accountId, string username)
    {
        if (_lifetime <= TimeSpan.Zero)
        {
            return;
        }

        if (_entries.Count > 100_000)
        {
            Prune();
        }

        _entries[Key(normalizedUsername, password)] = new Entry(accountId, username, _time.GetUtcNow() + _lifetime);
    }

    /// <summary>Drops expired entries.</summary>
    public void Prune()
    {
        var now = _time.GetUtcNow();
        foreach (var pair in _entries)
        {
            if (now >= pair.Value.Expires)
            {
                _entries.TryRemove(pair);
            }
        }
    }

    private string Key(string normalizedUsername, string password)
    {
        var input = Encoding.UTF8.GetBytes(normalizedUsername + "\0" + password);
        try
        {
            return Convert.ToBase64String(HMACSHA256.HashData(_key, input));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input);
        }
    }

    private sealed record Entry(long AccountId, string Username, DateTimeOffset Expires);
}
