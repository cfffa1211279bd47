using Paperclip.Client.Api;
using Spectre.Console;

namespace Paperclip.Client.Shell;

/// <summary>The process's console: its streams, its environment, and whether a person sits at a terminal.</summary>
/// <param name="In">Standard input.</param>
/// <param name="Out">Standard output.</param>
/// <param name="Error">Standard error.</param>
/// <param name="Environment">Reads an environment variable.</param>
internal sealed record CliConsole(TextReader In, TextWriter Out, TextWriter Error, Func<string, string?> Environment)
{
    /// <summary>True when both input and output are a terminal (Spectre.Console menus, prompts and key presses work).</summary>
    public bool IsTerminal { get; init; }

    /// <summary>True when the input is redirected: plain prompts echo the answers they read.</summary>
    public bool EchoInput { get; init; }
}

/// <summary>
/// What every command needs: the server, the credentials (options, else environment
/// variables, else a prompt), the timeout, the console and cancellation.
/// </summary>
internal sealed class CliContext
{
    /// <summary>The server when neither <c>--server</c> nor <c>PAPERCLIP_SERVER</c> says otherwise.</summary>
    public const string DefaultServer = "http://127.0.0.1:5000";

    private readonly CliConsole _console;

    /// <summary>Resolves the connection options against the environment.</summary>
    /// <param name="console">The process's console.</param>
    /// <param name="server"><c>--server</c>, or null.</param>
    /// <param name="user"><c>--user</c>, or null.</param>
    /// <param name="password"><c>--password</c>, or null.</param>
    /// <param name="passwordFromStdin"><c>--password-stdin</c>: the first input line is the password.</param>
    /// <param name="timeout"><c>--timeout</c>.</param>
    /// <param name="cancellationToken">Ctrl+C.</param>
    /// <exception cref="UsageException">The server is no http(s) address, or stdin holds no password.</exception>
    public CliContext(CliConsole console, string? server, string? user, string? password, bool passwordFromStdin, TimeSpan timeout, CancellationToken cancellationToken)
    {
        _console = console;
        CancellationToken = cancellationToken;
        Timeout = timeout;
        ServerText = NonEmpty(server) ?? NonEmpty(console.Environment("PAPERCLIP_SERVER")) ?? DefaultServer;
        Server = ParseServer(ServerText);
        User = NonEmpty(user) ?? NonEmpty(console.Environment("PAPERCLIP_USER"));
        if (password is not null && console.IsTerminal)
        {
            // Arguments are visible to every user of the machine (ps, /proc): say so where a person reads it.
            console.Error.WriteLine("Warning: a password on the command line is visible to other users of this machine; prefer PAPERCLIP_PASSWORD, --password-stdin or the prompt.");
        }
        Password = password
            ?? (passwordFromStdin ? console.In.ReadLine() ?? throw new UsageException("--password-stdin found no password on the input.") : null)
            ?? console.Environment("PAPERCLIP_PASSWORD");
    }

    public TextReader In => _console.In;

    public TextWriter Out => _console.Out;

    public TextWriter Error => _console.Error;

    /// <inheritdoc cref="CliConsole.IsTerminal"/>
    public bool IsTerminal => _console.IsTerminal;

    /// <inheritdoc cref="CliConsole.EchoInput"/>
    public bool EchoInput => _console.EchoInput;

    public CancellationToken CancellationToken { get; }

    /// <summary>The server address as given.</summary>
    public string ServerText { get; }

    /// <summary>The server's address, checked.</summary>
    public Uri Server { get; }

    public string? User { get; }

    public string? Password { get; private set; }

    /// <summary>The longest wait for an opponent or for the other player's move.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>A client for the server, not logged in.</summary>
    public PaperclipApi CreateApi() => new(Server);

    /// <summary>A client logged in with the user and password.</summary>
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

    /// <summary>The user name and password, required; on a terminal a missing password is asked for.</summary>
    /// <exception cref="UsageException">The user, or the password without a terminal to ask on, is missing.</exception>
    public (string User, string Password) RequireCredentials()
    {
        if (string.IsNullOrEmpty(User))
            throw new UsageException("Say who you are: --user NAME (or PAPERCLIP_USER).");
        if (Password is null && IsTerminal)
        {
            using (ConsoleState.Prompt())
                Password = AnsiConsole.Prompt(new TextPrompt<string>($"Password for {Markup.Escape(User)}:").Secret().AllowEmpty());
        }
        if (Password is null)
            throw new UsageException("Give your password: PAPERCLIP_PASSWORD, --password-stdin, or --password PASSWORD.");
        return (User, Password);
    }

    private static Uri ParseServer(string text)
    {
        var address = text.Contains("://", StringComparison.Ordinal) ? text : "http://" + text;
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new UsageException($"'{text}' is not a server address; use e.g. --server http://127.0.0.1:5000.");
        return uri;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
