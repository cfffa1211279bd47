using System.Net;

namespace Paperclip.Client.Api;

/// <summary>The backend answered with an error (problem+json): its status, title and detail.</summary>
public sealed class PaperclipApiException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PaperclipApiException()
        : this(HttpStatusCode.InternalServerError, "Error", null)
    {
    }

    /// <summary>Creates the exception.</summary>
    public PaperclipApiException(string message)
        : this(HttpStatusCode.InternalServerError, message, null)
    {
    }

    /// <summary>Creates the exception.</summary>
    public PaperclipApiException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = HttpStatusCode.InternalServerError;
        Title = message;
    }

    /// <summary>Creates the exception from an error answer.</summary>
    /// <param name="status">The HTTP status.</param>
    /// <param name="title">The problem's title (or the status's reason phrase).</param>
    /// <param name="detail">The problem's detail, when there is one.</param>
    /// <param name="retryAfter">The <c>Retry-After</c> delay, when there is one.</param>
    public PaperclipApiException(HttpStatusCode status, string title, string? detail, TimeSpan? retryAfter = null)
        : base(detail ?? title)
    {
        Status = status;
        Title = title;
        Detail = detail;
        RetryAfter = retryAfter;
    }

    /// <summary>The HTTP status.</summary>
    public HttpStatusCode Status { get; }

    /// <summary>The problem's title.</summary>
    public string Title { get; }

    /// <summary>The problem's detail (a readable explanation), when the server sent one.</summary>
    public string? Detail { get; }

    /// <summary>How long to wait before trying again (429).</summary>
    public TimeSpan? RetryAfter { get; }
}

/// <summary>The backend could not be reached (connection refused, DNS, timeout).</summary>
public sealed class ServerUnreachableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ServerUnreachableException()
        : this(new Uri("http://127.0.0.1:5000"), null)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ServerUnreachableException(string message)
        : base(message)
    {
        Server = new Uri("http://127.0.0.1:5000");
    }

    /// <summary>Creates the exception.</summary>
    public ServerUnreachableException(string message, Exception innerException)
        : base(message, innerException)
    {
        Server = new Uri("http://127.0.0.1:5000");
    }

    /// <summary>Creates the exception for <paramref name="server"/>.</summary>
    public ServerUnreachableException(Uri server, Exception? innerException)
        : base($"Cannot reach the Paperclip server at {server?.OriginalString}", innerException)
    {
        ArgumentNullException.ThrowIfNull(server);
        Server = server;
    }

    /// <summary>The server's address.</summary>
    public Uri Server { get; }
}
