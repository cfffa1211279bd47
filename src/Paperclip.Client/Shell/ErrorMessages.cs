using System.Globalization;
using System.Net;
using Paperclip.Client.Api;
using Paperclip.Client.Lobbies;
using Paperclip.Client.Play;
using Paperclip.Protocol;

namespace Paperclip.Client.Shell;

/// <summary>One clear line for every failure a player can meet (never a stack trace).</summary>
internal static class ErrorMessages
{
    /// <summary>The message for <paramref name="exception"/>.</summary>
    public static string Describe(Exception exception) => exception switch
    {
        ServerUnreachableException e => $"Cannot reach the Paperclip server at {e.Server.OriginalString}. Is it running? (--server or PAPERCLIP_SERVER sets the address.)",
        PaperclipApiException { Status: HttpStatusCode.Unauthorized } => "Wrong username or password.",
        PaperclipApiException { Status: HttpStatusCode.TooManyRequests } e => e.RetryAfter is { } wait
            ? string.Create(CultureInfo.InvariantCulture, $"Too many failed logins; try again in {Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))} s.")
            : "Too many failed logins; try again in a minute.",
        PaperclipApiException { Status: HttpStatusCode.ServiceUnavailable } e => $"The server cannot start another lobby right now: {e.Message}",
        PaperclipApiException e => e.Detail ?? $"The server answered {(int)e.Status} {e.Title}.",
        NoSpaceException => "That lobby is full.",
        TimeoutDisconnectException => "The game server did not answer.",
        CertificateInvalidException => "The game server refused your certificate, or its own is not from this Paperclip server.",
        MatchEndedException e => e.Message,
        RpsGameException e => $"The game said: {e.Message}",
        AccountKeyException e => e.Message,
        PaperclipException e => $"The game server refused the connection: {e.Message}",
        UsageException e => e.Message,
        WaitTimeoutException e => e.Message,
        OperationCanceledException => "Cancelled.",
        _ => $"Unexpected error: {exception.Message}",
    };
}
