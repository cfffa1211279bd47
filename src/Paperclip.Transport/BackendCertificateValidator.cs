using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Paperclip.Protocol.Certificates;

namespace Paperclip.Transport;

/// <summary>
/// Asks the backend's <c>/auth/certificate/validate</c> whether a client certificate is valid,
/// and caches the answer per certificate (valid answers for <paramref name="cacheDuration"/>,
/// invalid ones for a tenth of it), so a reconnecting player costs no HTTP call.
/// </summary>
/// <param name="http">A client whose BaseAddress is the backend.</param>
/// <param name="cacheDuration">How long a valid answer is trusted. Default 60 s.</param>
/// <param name="timeProvider">The clock; default system.</param>
public sealed class BackendCertificateValidator(HttpClient http, TimeSpan? cacheDuration = null, TimeProvider? timeProvider = null) : ICertificateValidator
{
    private const int MaxCacheEntries = 100_000;
    private readonly ConcurrentDictionary<string, (ClientIdentity? Identity, DateTimeOffset Expires)> _cache = new();
    private readonly TimeSpan _cacheDuration = cacheDuration ?? TimeSpan.FromSeconds(60);
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    /// <summary>HTTP calls made (cache misses).</summary>
    public int BackendCalls => _backendCalls;
    private int _backendCalls;

    /// <inheritdoc />
    public async ValueTask<ClientIdentity?> ValidateAsync(ReadOnlyMemory<byte> certificate, CancellationToken cancellationToken)
    {
        if (!AccountCertificate.TryReadIdentity(certificate.Span, out var claimed))
            return null;
        var key = Convert.ToBase64String(SHA256.HashData(certificate.Span));
        var now = _time.GetUtcNow();
        if (_cache.TryGetValue(key, out var cached) && cached.Expires > now)
            return cached.Identity;

        Interlocked.Increment(ref _backendCalls);
        using var response = await http.PostAsJsonAsync("auth/certificate/validate",
            new ValidateRequest(Convert.ToBase64String(certificate.Span)), cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        var answer = await response.Content.ReadFromJsonAsync<ValidateResponse>(cancellationToken).ConfigureAwait(false);

        var identity = answer is { Valid: true, AccountId: { } id } && id == claimed.AccountId
            ? new ClientIdentity(id, claimed.Username)
            : null;
        if (_cache.Count >= MaxCacheEntries)
            _cache.Clear();
        _cache[key] = (identity, now + (identity is null ? _cacheDuration / 10 : _cacheDuration));
        return identity;
    }

    private sealed record ValidateRequest([property: JsonPropertyName("certificate")] string Certificate);

    private sealed record ValidateResponse(
        [property: JsonPropertyName("valid")] bool Valid,
        [property: JsonPropertyName("account-id")] long? AccountId);
}
