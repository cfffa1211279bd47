using Paperclip.Protocol;

namespace Paperclip.Transport;

/// <summary>A message from a client. <paramref name="data"/> is valid only during the call.</summary>
public delegate void ServerDataHandler(PaperclipConnection connection, ReadOnlySpan<byte> data, MessageInfo message);

/// <summary>A message from the server. <paramref name="data"/> is valid only during the call.</summary>
public delegate void ClientDataHandler(ReadOnlySpan<byte> data, MessageInfo message);

/// <summary>A client completed its handshake.</summary>
public sealed class ClientJoinedEventArgs(PaperclipConnection connection) : EventArgs
{
    /// <summary>The client; its account id and username come from its certificate.</summary>
    public PaperclipConnection Connection { get; } = connection;
}

/// <summary>A session ended.</summary>
public sealed class DisconnectedEventArgs(PaperclipConnection? connection, DisconnectReason reason, string? text) : EventArgs
{
    /// <summary>The client that left (null on the client side, where the session is the server).</summary>
    public PaperclipConnection? Connection { get; } = connection;

    /// <summary>Why: CLIENT_DISCONNECT (it left), SERVER_DISCONNECT (shutdown), TIMEOUT (silence), DISCONNECT (replaced or other).</summary>
    public DisconnectReason Reason { get; } = reason;

    /// <summary>The peer's or the local explanation, when there is one.</summary>
    public string? Text { get; } = text;
}

/// <summary>An ERROR packet from the peer that did not end the session (PACKET errors and the like).</summary>
public sealed class ErrorReceivedEventArgs(PaperclipConnection? connection, ErrorCode code, string text) : EventArgs
{
    /// <summary>The client that sent it (null on the client side).</summary>
    public PaperclipConnection? Connection { get; } = connection;

    /// <summary>The major/minor code.</summary>
    public ErrorCode Code { get; } = code;

    /// <summary>The UTF-8 text that came with it (may be empty).</summary>
    public string Text { get; } = text;

    /// <summary>The code as the typed exception.</summary>
    public PaperclipException ToException() => PaperclipException.FromCode(Code, Text);
}
