using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Paperclip.Protocol.Certificates;

namespace Paperclip.Transport;

/// <summary>
/// Remembers which account certificates verified under which registered key, keyed by the
/// certificate's SHA-256, so a reconnecting player's handshake skips the certificate's signature
/// check (a P-256 verification, about 100 µs) and its parsing.
/// </summary>
/// <remarks>
/// <para>An entry answers only for the exact key it was verified with: the caller looks up the
/// account's current key first and passes it in on every call. A changed key (the account
/// re-registered one) misses and the certificate is checked against the new key; a removed
/// account has no key, so the caller never reaches the cache. That is all revocation means in
/// protocol §5.3 — there is no revocation list — so the cache revokes as fast as the caller's
/// own key lookup does, never later.</para>
/// <para>An entry never outlives the certificate's validity (at most a day, §5.3): a hit still
/// checks that now lies within it. The cache holds at most <c>capacity</c> entries; when full it
/// drops the expired ones and, if still full, starts over, so its memory stays bounded whatever
/// certificates are presented.</para>
/// </remarks>
/// <param name="capacity">The most entries kept. Default 10,000 (a few MB at most).</param>
public sealed class CertificateValidationCache(int capacity = 10_000)
{
    private readonly ConcurrentDictionary<CertificateHash, Entry> _entries = new();
    private readonly int _capacity = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "must be positive");

    /// <summary>Entries held now.</summary>
    public int Count => _entries.Count;

    /// <summary>Validations answered from the cache (signature checks skipped).</summary>
    public long Hits => Interlocked.Read(ref _hits);
    private long _hits;

    /// <summary>
    /// <see cref="AccountCertificate.Validate(ReadOnlySpan{byte}, ReadOnlySpan{byte}, DateTimeOffset)"/>,
    /// answered from the cache when this certificate was already found valid under this same key.
    /// </summary>
    public bool Validate(ReadOnlySpan<byte> certificate, ReadOnlySpan<byte> registeredPublicKey, DateTimeOffset now)
    {
        var hash = CertificateHash.Of(certificate);
        if (_entries.TryGetValue(hash, out var entry))
        {
            if (entry.NotBefore <= now && now <= entry.NotAfter && registeredPublicKey.SequenceEqual(entry.RegisteredKey))
            {
                Interlocked.Increment(ref _hits);
                return true;
            }
            if (now > entry.NotAfter)
                _entries.TryRemove(new KeyValuePair<CertificateHash, Entry>(hash, entry));
        }
        if (!AccountCertificate.Validate(certificate, registeredPublicKey, now, out var notBefore, out var notAfter))
            return false;
        if (_entries.Count >= _capacity)
            MakeRoom(now);
        _entries[hash] = new Entry(registeredPublicKey.ToArray(), notBefore, notAfter);
        return true;
    }

    private void MakeRoom(DateTimeOffset now)
    {
        foreach (var (hash, entry) in _entries)
            if (now > entry.NotAfter)
                _entries.TryRemove(hash, out _);
        if (_entries.Count >= _capacity)
            _entries.Clear();
    }

    private sealed record Entry(byte[] RegisteredKey, DateTimeOffset NotBefore, DateTimeOffset NotAfter);

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct CertificateHash(ulong A, ulong B, ulong C, ulong D)
    {
        public static CertificateHash Of(ReadOnlySpan<byte> certificate)
        {
            var hash = default(CertificateHash);
            SHA256.HashData(certificate, MemoryMarshal.AsBytes(new Span<CertificateHash>(ref hash)));
            return hash;
        }
    }
}
