namespace Paperclip.Backend.Data;

/// <summary>A registered account.</summary>
public sealed class Account
{
    /// <summary>The account id.</summary>
    public long Id { get; set; }

    /// <summary>The user name as registered.</summary>
    public required string Username { get; set; }

    /// <summary>The user name in lower case: the case-insensitive unique key.</summary>
    public required string NormalizedUsername { get; set; }

    /// <summary>PBKDF2-HMAC-SHA256 of the password.</summary>
    public required byte[] PasswordHash { get; set; }

    /// <summary>The random salt of <see cref="PasswordHash"/>.</summary>
    public required byte[] PasswordSalt { get; set; }

    /// <summary>The PBKDF2 iteration count of <see cref="PasswordHash"/>.</summary>
    public int PasswordIterations { get; set; }

    /// <summary>The account's public key, SubjectPublicKeyInfo DER.</summary>
    public required byte[] PublicKey { get; set; }

    /// <summary>The account's private key, PKCS#8 EncryptedPrivateKeyInfo DER encrypted with the password.</summary>
    public required byte[] EncryptedPrivateKey { get; set; }

    /// <summary>
    /// True when the account may use the operator's console (granted with
    /// <c>Paperclip.Server admin grant USERNAME</c>; <c>Paperclip:Admins</c> grants it by configuration).
    /// </summary>
    public bool IsAdmin { get; set; }

    /// <summary>When the account was created (UTC).</summary>
    public DateTimeOffset CreatedAt { get; set; }
}
