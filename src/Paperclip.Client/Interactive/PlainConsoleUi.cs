using Paperclip.Client.Shell;
using System.Globalization;
using System.Text;

namespace Paperclip.Client.Interactive;

/// <summary>
/// Interactive mode on plain lines, for redirected input (scripts, tests, pipes) or
/// <c>--plain</c>: numbered menus that accept a number or a word, prompts that read one line,
/// answers echoed when the input is not a terminal so that a transcript reads well.
/// </summary>
internal sealed class PlainConsoleUi(TextReader input, TextWriter output, bool echo) : IConsoleUi
{
    public bool IsTerminal => false;

    public string? Ask(string prompt) => Read(prompt + ": ", secret: false);

    public string? AskSecret(string prompt) => Read(prompt + ": ", secret: true);

    public string? Choose(string title, IReadOnlyList<string> options)
    {
        while (true)
        {
            output.WriteLine();
            output.WriteLine(title);
            for (var i = 0; i < options.Count; i++)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {i + 1}. {options[i]}"));
            var answer = Read("> ", secret: false);
            if (answer is null)
                return null;
            if (Match(answer, options) is { } chosen)
                return chosen;
            output.WriteLine($"'{answer.Trim()}' is not one of the choices: type a number from 1 to {options.Count} or a word of the choice.");
        }
    }

    /// <summary>The option <paramref name="answer"/> designates: its number, its text, or a unique beginning of it.</summary>
    public static string? Match(string answer, IReadOnlyList<string> options)
    {
        var text = answer.Trim();
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            return number >= 1 && number <= options.Count ? options[number - 1] : null;
        var key = Normalize(text);
        if (key.Length == 0)
            return null;
        var exact = options.FirstOrDefault(o => Normalize(o) == key || Normalize(FirstWord(o)) == key);
        if (exact is not null)
            return exact;
        var prefixed = options.Where(o => Normalize(o).StartsWith(key, StringComparison.Ordinal)).ToList();
        return prefixed.Count == 1 ? prefixed[0] : null;
    }

    public void Title(string text)
    {
        output.WriteLine();
        output.WriteLine($"== {text} ==");
    }

    public void Info(string text) => output.WriteLine(text);

    public void Success(string text) => output.WriteLine(text);

    public void Warning(string text) => output.WriteLine(text);

    public void Error(string text) => output.WriteLine($"Error: {text}");

    public void Table(IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<string>> rows, string emptyText)
    {
        if (rows.Count == 0)
        {
            output.WriteLine(emptyText);
            return;
        }
        var widths = headers.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        output.WriteLine(string.Join("  ", headers.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        foreach (var row in rows)
            output.WriteLine(string.Join("  ", row.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
    }

    public async Task<T> WaitAsync<T>(string status, Func<Action<string>, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        output.WriteLine(status);
        var last = status;
        return await work(text =>
        {
            if (text != last)
                output.WriteLine(text);
            last = text;
        }, cancellationToken).ConfigureAwait(false);
    }

    private string? Read(string prompt, bool secret)
    {
        output.Write(prompt);
        output.Flush();
        string? line;
        using (ConsoleState.Prompt())
            line = input.ReadLine();
        if (echo)
            output.WriteLine(line is null ? "" : secret ? "********" : line);
        return line;
    }

    private static string FirstWord(string text)
    {
        var space = text.IndexOf(' ', StringComparison.Ordinal);
        return space < 0 ? text : text[..space];
    }

    private static string Normalize(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (char.IsLetterOrDigit(c))
                builder.Append(char.ToLowerInvariant(c));
        }
        return builder.ToString();
    }
}
