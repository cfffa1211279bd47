namespace Paperclip.Client.Interactive;

/// <summary>What interactive mode shows and asks, on a terminal (Spectre.Console) or on plain lines (redirected input).</summary>
internal interface IConsoleUi
{
    /// <summary>True on a real terminal, where the player can press q while waiting and waits have no time limit.</summary>
    bool IsTerminal { get; }

    /// <summary>Asks for a line; null when the input has ended.</summary>
    string? Ask(string prompt);

    /// <summary>Asks for a password (not shown); null when the input has ended.</summary>
    string? AskSecret(string prompt);

    /// <summary>Lets the player pick one of <paramref name="options"/>; null when the input has ended.</summary>
    string? Choose(string title, IReadOnlyList<string> options);

    /// <summary>A heading.</summary>
    void Title(string text);

    /// <summary>A plain line.</summary>
    void Info(string text);

    /// <summary>A line of good news.</summary>
    void Success(string text);

    /// <summary>A line of bad news that is no error (a lost round, an opponent who left).</summary>
    void Warning(string text);

    /// <summary>An error line.</summary>
    void Error(string text);

    /// <summary>A table; <paramref name="emptyText"/> when it has no rows.</summary>
    void Table(IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<string>> rows, string emptyText);

    /// <summary>
    /// Runs <paramref name="work"/> while showing <paramref name="status"/> (which the work may
    /// change). On a terminal, q or Escape cancels the work's token.
    /// </summary>
    Task<T> WaitAsync<T>(string status, Func<Action<string>, CancellationToken, Task<T>> work, CancellationToken cancellationToken);
}
