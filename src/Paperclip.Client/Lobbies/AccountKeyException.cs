namespace Paperclip.Client.Lobbies;

/// <summary>The account key could not be decrypted with the password given.</summary>
public sealed class AccountKeyException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AccountKeyException()
        : this("Could not decrypt your account key with this password.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public AccountKeyException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public AccountKeyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
