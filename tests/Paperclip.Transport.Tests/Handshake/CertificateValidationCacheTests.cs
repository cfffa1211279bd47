using Microsoft.Extensions.Time.Testing;
using Paperclip.Protocol.Certificates;

namespace Paperclip.Transport.Tests.Handshake;

/// <summary>The cache of verified account certificates: hits, expiry on the certificate's validity, key changes, bounds.</summary>
public sealed class CertificateValidationCacheTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static (KnownKeysCertificateValidator Validator, CertificateValidationCache Cache, FakeTimeProvider Time) Create(int capacity = 100)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero));
        var cache = new CertificateValidationCache(capacity);
        return (new KnownKeysCertificateValidator(time, cache), cache, time);
    }

    [Fact]
    public async Task The_second_validation_of_a_certificate_is_a_hit_with_the_same_identity()
    {
        var (validator, cache, time) = Create();
        var account = TestPki.Account(1, validator, "Mario", time.GetUtcNow());

        Assert.Equal(new ClientIdentity(1, "Mario"), await validator.ValidateAsync(account.Certificate, Token));
        Assert.Equal(0, cache.Hits);
        Assert.Equal(new ClientIdentity(1, "Mario"), await validator.ValidateAsync(account.Certificate, Token));
        Assert.Equal(1, cache.Hits);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public async Task An_entry_ends_with_the_certificate_validity()
    {
        var (validator, cache, time) = Create();
        var account = TestPki.Account(2, validator, now: time.GetUtcNow()); // valid from now − 5 min for 12 h
        Assert.NotNull(await validator.ValidateAsync(account.Certificate, Token));

        time.Advance(TimeSpan.FromMinutes(11 * 60 + 55)); // the last instant of the validity

        Assert.NotNull(await validator.ValidateAsync(account.Certificate, Token));
        Assert.Equal(1, cache.Hits);

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(await validator.ValidateAsync(account.Certificate, Token));
        Assert.Equal(1, cache.Hits);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task A_changed_or_removed_key_is_never_answered_from_the_cache()
    {
        var (validator, cache, time) = Create();
        var account = TestPki.Account(3, validator, now: time.GetUtcNow());
        var registered = AccountKey.ExportPublicKey(account.Key);
        Assert.NotNull(await validator.ValidateAsync(account.Certificate, Token));

        // The account registered another key: the certificate of the old one is refused.
        using var other = AccountKey.Generate();
        validator.Add(3, AccountKey.ExportPublicKey(other));
        Assert.Null(await validator.ValidateAsync(account.Certificate, Token));
        Assert.Equal(0, cache.Hits);

        validator.Remove(3);
        Assert.Null(await validator.ValidateAsync(account.Certificate, Token));

        // The original key back: the entry still stands for it.
        validator.Add(3, registered);
        Assert.NotNull(await validator.ValidateAsync(account.Certificate, Token));
        Assert.Equal(1, cache.Hits);
    }

    [Fact]
    public async Task Invalid_certificates_are_not_cached_and_stay_invalid()
    {
        var (validator, cache, time) = Create();
        var account = TestPki.Account(4, validator, now: time.GetUtcNow());
        var forged = account.Certificate.ToArray();
        forged[^1] ^= 1; // inside the signature
        for (var i = 0; i < 2; i++)
            Assert.Null(await validator.ValidateAsync(forged, Token));
        Assert.Equal(0, cache.Count);

        // A valid certificate cached does not make a forged one with its identity pass.
        Assert.NotNull(await validator.ValidateAsync(account.Certificate, Token));
        Assert.Null(await validator.ValidateAsync(forged, Token));
        Assert.Equal(0, cache.Hits);
    }

    [Fact]
    public async Task The_cache_holds_at_most_its_capacity()
    {
        var (validator, cache, time) = Create(capacity: 3);
        var accounts = Enumerable.Range(10, 10).Select(id => TestPki.Account(id, validator, now: time.GetUtcNow())).ToArray();
        foreach (var account in accounts)
        {
            Assert.NotNull(await validator.ValidateAsync(account.Certificate, Token));
            Assert.InRange(cache.Count, 1, 3);
        }
        Assert.Equal(0, cache.Hits);
        Assert.Throws<ArgumentOutOfRangeException>(() => new CertificateValidationCache(0));
    }

    [Fact]
    public async Task A_reconnecting_player_handshake_is_answered_from_the_cache()
    {
        var cache = new CertificateValidationCache();
        var validator = new KnownKeysCertificateValidator(cache: cache);
        var account = TestPki.Account(20, validator);
        var server = new PaperclipServer(TestPki.Shared.ServerOptions(validator));
        await using (server)
        {
            server.Start();
            for (var i = 0; i < 2; i++)
            {
                await using var client = new PaperclipClient(TestPki.Shared.ClientOptions(account));
                await client.ConnectAsync(server.LocalEndPoint, Token).WaitAsync(Wait.Timeout, Token);
            }
        }
        Assert.Equal(1, cache.Hits);
    }
}
