using Paperclip.Protocol;

namespace Paperclip.Client.Play;

/// <summary>The game session ended: the server shut down, the connection was lost, or the server dropped the player.</summary>
public sealed class MatchEndedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MatchEndedException()
        : this(DisconnectReason.Disconnect, null)
    {
    }

    /// <summary>Creates the exception.</summary>
    public MatchEndedException(string message)
        : base(message)
    {
        Reason = DisconnectReason.Disconnect;
    }

    /// <summary>Creates the exception.</summary>
    public MatchEndedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = DisconnectReason.Disconnect;
    }

    /// <summary>Creates the exception for a disconnect with this reason and text.</summary>
    public MatchEndedException(DisconnectReason reason, string? text)
        : base(Explain(reason, text))
    {
        Reason = reason;
        Text = text;
    }

    /// <summary>Why the session ended.</summary>
    public DisconnectReason Reason { get; }

    /// <summary>The server's or the transport's explanation, when there is one.</summary>
    public string? Text { get; }

    private static string Explain(DisconnectReason reason, string? text) => reason switch
    {
        DisconnectReason.ServerDisconnect => "The server shut down.",
        DisconnectReason.Timeout => "Lost the connection to the game server (it stopped answering).",
        DisconnectReason.ClientDisconnect => "You left the game.",
        _ => string.IsNullOrWhiteSpace(text) ? "The game server ended the session." : $"The game server ended the session: {text}",
    };
}

/// <summary>The game server refused a move or a seat (an ERROR packet); the session goes on.</summary>
public sealed class RpsGameException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RpsGameException()
    {
    }

    /// <summary>Creates the exception with the server's explanation.</summary>
    public RpsGameException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public RpsGameException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
