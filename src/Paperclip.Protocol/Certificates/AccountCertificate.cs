using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using Paperclip.Protocol.Crypto;

namespace Paperclip.Protocol.Certificates;

/// <summary>
/// Account certificates (protocol §5.3): self-signed by the account key, naming the account by
/// UID (its id in decimal) and pseudonym (its username), valid for at most one day.
/// </summary>
public static class AccountCertificate
{
    /// <summary>The longest validity an account certificate may have.</summary>
    public static readonly TimeSpan MaxValidity = TimeSpan.FromDays(1);

    /// <summary>
    /// Issues a certificate for <paramref name="accountKey"/>, signed by it. Subject = issuer =
    /// O=<paramref name="organization"/>, CN=<paramref name="commonName"/>, UID=<paramref name="accountId"/>,
    /// pseudonym=<paramref name="username"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="validity"/> is not positive or exceeds one day, or the id is negative.</exception>
    public static byte[] Create(AsymmetricAlgorithm accountKey, long accountId, string username, DateTimeOffset notBefore, TimeSpan validity,
        string organization = "Paperclip", string commonName = "localhost")
    {
        ArgumentOutOfRangeException.ThrowIfNegative(accountId);
        ArgumentException.ThrowIfNullOrEmpty(username);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(validity, MaxValidity);
        return CertificateFactory.CreateSelfSigned(accountKey, notBefore, validity, organization, commonName,
            (Oids.UserId, accountId.ToString(CultureInfo.InvariantCulture)), (Oids.Pseudonym, username));
    }

    /// <summary>Reads the account id (UID) and username (pseudonym) of a certificate, without checking it.</summary>
    /// <returns>False, never an exception, for garbage, or when the UID or pseudonym is missing, repeated or not a plain decimal id.</returns>
    public static bool TryReadIdentity(ReadOnlySpan<byte> certificateDer, [NotNullWhen(true)] out AccountIdentity? identity)
    {
        identity = null;
        return CertificateParts.TryParse(certificateDer, out var parts) && TryReadIdentity(parts, out identity);
    }

    /// <summary>The certificate's SubjectPublicKeyInfo (DER); false, never an exception, for anything that does not parse.</summary>
    public static bool TryReadPublicKey(ReadOnlySpan<byte> certificateDer, [NotNullWhen(true)] out byte[]? subjectPublicKeyInfo)
    {
        subjectPublicKeyInfo = CertificateParts.TryParse(certificateDer, out var parts) ? parts.SubjectPublicKeyInfo.ToArray() : null;
        return subjectPublicKeyInfo is not null;
    }

    /// <summary>
    /// Checks an account certificate against the account's registered public key: it parses and
    /// names an account, its signature verifies with <paramref name="registeredPublicKey"/>, its
    /// SubjectPublicKeyInfo equals that key byte for byte, its validity spans at most one day and
    /// contains <paramref name="now"/>. Whether the account exists is the caller's check.
    /// </summary>
    /// <returns>False, never an exception, for anything else.</returns>
    public static bool Validate(ReadOnlySpan<byte> certificateDer, ReadOnlySpan<byte> registeredPublicKey, DateTimeOffset now) =>
        Validate(certificateDer, registeredPublicKey, now, out _, out _);

    /// <summary>
    /// <see cref="Validate(ReadOnlySpan{byte}, ReadOnlySpan{byte}, DateTimeOffset)"/>, also giving
    /// the validity of a valid certificate (so a cache can keep the answer no longer than that).
    /// </summary>
    public static bool Validate(ReadOnlySpan<byte> certificateDer, ReadOnlySpan<byte> registeredPublicKey, DateTimeOffset now,
        out DateTimeOffset notBefore, out DateTimeOffset notAfter)
    {
        notBefore = notAfter = default;
        if (!(CertificateParts.TryParse(certificateDer, out var parts)
            && TryReadIdentity(parts, out _)
            && parts.SubjectPublicKeyInfo.Span.SequenceEqual(registeredPublicKey)
            && parts.NotAfter - parts.NotBefore <= MaxValidity
            && parts.IsValidAt(now)
            && parts.IsSignedBy(registeredPublicKey)))
            return false;
        (notBefore, notAfter) = (parts.NotBefore, parts.NotAfter);
        return true;
    }

    private static bool TryReadIdentity(CertificateParts parts, [NotNullWhen(true)] out AccountIdentity? identity)
    {
        identity = null;
        // NumberStyles.None: digits only, so "+1", " 1" or "-1" never alias account 1.
        if (parts.UserId is null || parts.Pseudonym is null
            || !long.TryParse(parts.UserId, NumberStyles.None, CultureInfo.InvariantCulture, out var accountId))
            return false;
        identity = new AccountIdentity(accountId, parts.Pseudonym);
        return true;
    }
}
