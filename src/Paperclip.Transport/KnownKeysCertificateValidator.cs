using System.Collections.Concurrent;
using Paperclip.Protocol.Certificates;

namespace Paperclip.Transport;

/// <summary>
/// Accepts account certificates whose account is in a set of known public keys (protocol §5.3):
/// for tests, LAN games and servers that sync keys from the backend themselves. A certificate
/// already found valid under the account's current key is not verified again
/// (<see cref="CertificateValidationCache"/>); <see cref="Remove"/> or a new key takes effect at
/// the next handshake.
/// </summary>
/// <param name="timeProvider">The clock; default system.</param>
/// <param name="cache">Where valid certificates are remembered; default a new one of 10,000 entries.</param>
public sealed class KnownKeysCertificateValidator(TimeProvider? timeProvider = null, CertificateValidationCache? cache = null) : ICertificateValidator
{
    private readonly ConcurrentDictionary<long, byte[]> _keys = new();
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly CertificateValidationCache _cache = cache ?? new CertificateValidationCache();

    /// <summary>Registers (or replaces) an account's public key (SubjectPublicKeyInfo DER).</summary>
    public void Add(long accountId, byte[] publicKey) => _keys[accountId] = publicKey.ToArray();

    /// <summary>Forgets an account.</summary>
    public bool Remove(long accountId) => _keys.TryRemove(accountId, out _);

    /// <inheritdoc />
    public ValueTask<ClientIdentity?> ValidateAsync(ReadOnlyMemory<byte> certificate, CancellationToken cancellationToken)
    {
        ClientIdentity? result = null;
        if (AccountCertificate.TryReadIdentity(certificate.Span, out var identity)
            && _keys.TryGetValue(identity.AccountId, out var key)
            && _cache.Validate(certificate.Span, key, _time.GetUtcNow()))
            result = new ClientIdentity(identity.AccountId, identity.Username);
        return ValueTask.FromResult(result);
    }
}
