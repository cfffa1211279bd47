using System.Security.Cryptography;

namespace Paperclip.Backend.Security;

/// <summary>A password hash with its parameters.</summary>
/// <param name="Hash">PBKDF2-HMAC-SHA256 output.</param>
/// <param name="Salt">The random salt.</param>
/// <param name="Iterations">The iteration count.</param>
public readonly record struct PasswordHash(byte[] Hash, byte[] Salt, int Iterations);

/// <summary>PBKDF2-HMAC-SHA256 password hashing with a random salt and constant-time comparison.</summary>
public sealed class PasswordHasher
{
    /// <summary>The fewest iterations ever used for a new hash.</summary>
    public const int MinimumIterations = 100_000;

    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    private readonly int _iterations;
    private readonly PasswordHash _dummy;

    /// <summary>Creates a hasher with at least <see cref="MinimumIterations"/> iterations.</summary>
    public PasswordHasher(int iterations)
    {
        _iterations = Math.Max(iterations, MinimumIterations);
        // Unknown users are checked against this, so that they cost the same time as a wrong password.
        _dummy = Hash(Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)));
    }

    /// <summary>The iteration count of new hashes.</summary>
    public int Iterations => _iterations;

    /// <summary>Hashes a password with a new random salt.</summary>
    public PasswordHash Hash(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Rfc2898DeriveBytes.Pbkdf2(password, salt, _iterations, HashAlgorithmName.SHA256, HashBytes);
        return new PasswordHash(hash, salt, _iterations);
    }

    /// <summary>Checks a password against a stored hash in constant time.</summary>
    public static bool Verify(string password, PasswordHash stored)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (stored.Hash is null || stored.Salt is null || stored.Iterations < 1)
        {
            return false;
        }

        Span<byte> actual = stackalloc byte[64];
        if (stored.Hash.Length is 0 or > 64)
        {
            return false;
        }

        actual = actual[..stored.Hash.Length];
        Rfc2898DeriveBytes.Pbkdf2(password, stored.Salt, actual, stored.Iterations, HashAlgorithmName.SHA256);
        var equal = CryptographicOperations.FixedTimeEquals(actual, stored.Hash);
        CryptographicOperations.ZeroMemory(actual);
        return equal;
    }

    /// <summary>Burns the same time as <see cref="Verify"/> for a user that does not exist; always false.</summary>
    public bool VerifyDummy(string password)
    {
        _ = Verify(password, _dummy);
        return false;
    }
}
