using System.Globalization;
using Paperclip.Client.Api;

namespace Paperclip.Client.Commands;

/// <summary>
/// What every command needs: the server, the credentials (options, else environment
/// variables), the timeout, the console streams and cancellation.
/// </summary>
internal sealed class CliContext
{
    /// <summary>The server when neither <c>--server</c> nor <c>PAPERCLIP_SERVER</c> says otherwise.</summary>
    public const string DefaultServer = "http://127.0.0.1:5000";

    /// <summary>The default of <c>--timeout</c>, in seconds.</summary>
    public const int DefaultTimeoutSeconds = 60;

    public CliContext(CommandLine commandLine, TextReader input, TextWriter output, TextWriter error, Func<string, string?> environment, CancellationToken cancellationToken)
    {
        CommandLine = commandLine;
        In = input;
        Out = output;
        Error = error;
        CancellationToken = cancellationToken;
        ServerText = commandLine.Option("server") ?? NonEmpty(environment("PAPERCLIP_SERVER")) ?? DefaultServer;
        User = commandLine.Option("user") ?? NonEmpty(environment("PAPERCLIP_USER"));
        Password = commandLine.Option("password") ?? environment("PAPERCLIP_PASSWORD");
        var timeout = commandLine.Option("timeout");
        if (timeout is null)
        {
            Timeout = TimeSpan.FromSeconds(DefaultTimeoutSeconds);
        }
        else if (double.TryParse(timeout, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0 && seconds <= 86_400)
        {
            Timeout = TimeSpan.FromSeconds(seconds);
        }
        else
        {
            throw new UsageException($"--timeout takes a number of seconds (up to 86400), not '{timeout}'.");
        }
    }

    public CommandLine CommandLine { get; }

    /// <summary>True when both input and output are a terminal (Spectre.Console menus and key presses work).</summary>
    public bool IsTerminal { get; init; }

    /// <summary>True when the input is redirected: plain prompts echo the answers they read.</summary>
    public bool EchoInput { get; init; }

    public TextReader In { get; }

    public TextWriter Out { get; }

    public TextWriter Error { get; }

    public CancellationToken CancellationToken { get; }

    /// <summary>The server address as given.</summary>
    public string ServerText { get; }

    public string? User { get; set; }

    public string? Password { get; set; }

    /// <summary>The longest wait for an opponent or for the other player's move.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>The server's address, checked.</summary>
    /// <exception cref="UsageException">Not an http(s) address.</exception>
    public Uri Server
    {
        get
        {
            var text = ServerText.Contains("://", StringComparison.Ordinal) ? ServerText : "http://" + ServerText;
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                throw new UsageException($"'{ServerText}' is not a server address; use e.g. --server http://127.0.0.1:5000.");
            return uri;
        }
    }

    /// <summary>A client for the server, not logged in.</summary>
    public PaperclipApi CreateApi() => new(Server);

    /// <summary>A client logged in with <c>--user</c>/<c>--password</c>.</summary>
    /// <exception cref="UsageException">The user or the password is missing.</exception>
    public async Task<PaperclipApi> LoginAsync()
    {
        var (user, password) = RequireCredentials();
        var api = CreateApi();
        try
        {
            await api.LoginAsync(user, password, CancellationToken).ConfigureAwait(false);
            return api;
        }
        catch
        {
            api.Dispose();
            throw;
        }
    }

    /// <summary>The user name and password, required.</summary>
    public (string User, string Password) RequireCredentials()
    {
        if (string.IsNullOrEmpty(User))
            throw new UsageException("Say who you are: --user NAME (or PAPERCLIP_USER).");
        if (Password is null)
            throw new UsageException("Give your password: --password PASSWORD (or PAPERCLIP_PASSWORD).");
        return (User, Password);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
