using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Paperclip.Backend.Security;

/// <summary>
/// Counts failed logins per user name and per client address in a fixed window; past the limit
/// further attempts are refused (429) until the window ends. A success clears only that user
/// name's counter, never an address's.
/// </summary>
public sealed class LoginThrottle
{
    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly int _limit;
    private readonly TimeSpan _window;

    /// <summary>Creates the throttle.</summary>
    public LoginThrottle(IOptions<PaperclipOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _limit = options.Value.Auth.MaxFailedLogins;
        _window = options.Value.Auth.FailedLoginWindow;
    }

    /// <summary>How many counters are kept (for tests and pruning).</summary>
    public int Count => _windows.Count;

    /// <summary>When a login for this user from this address is refused: how long until it is allowed again.</summary>
    public TimeSpan? RetryAfter(string normalizedUsername, string? address)
    {
        var now = _time.GetUtcNow();
        var user = Blocked(UserKey(normalizedUsername), now);
        var ip = address is null ? null : Blocked(AddressKey(address), now);
        return (user, ip) switch
        {
            (null, null) => null,
            ({ } u, null) => u,
            (null, { } a) => a,
            ({ } u, { } a) => u > a ? u : a,
        };
    }

    /// <summary>Records a failed login.</summary>
    public void RecordFailure(string normalizedUsername, string? address)
    {
        var now = _time.GetUtcNow();
        Increment(UserKey(normalizedUsername), now);
        if (address is not null)
        {
            Increment(AddressKey(address), now);
        }
    }

    /// <summary>Records a successful login: clears the user name's counter (not the address's).</summary>
    public void RecordSuccess(string normalizedUsername) => _windows.TryRemove(UserKey(normalizedUsername), out _);

    /// <summary>Drops counters whose window has ended.</summary>
    public void Prune()
    {
        var now = _time.GetUtcNow();
        foreach (var (key, window) in _windows)
        {
            if (now - window.Start >= _window)
            {
                _windows.TryRemove(new KeyValuePair<string, Window>(key, window));
            }
        }
    }

    private static string UserKey(string username) => "u:" + username;

    private static string AddressKey(string address) => "a:" + address;

    private TimeSpan? Blocked(string key, DateTimeOffset now)
    {
        if (!_windows.TryGetValue(key, out var window))
        {
            return null;
        }

        var end = window.Start + _window;
        return window.Failures >= _limit && now < end ? end - now : null;
    }

    private void Increment(string key, DateTimeOffset now) =>
        _windows.AddOrUpdate(
            key,
            static (_, now) => new Window(now, 1),
            (_, old, now) => now - old.Start >= _window ? new Window(now, 1) : old with { Failures = old.Failures + 1 },
            now);

    private sealed record Window(DateTimeOffset Start, int Failures);
}
