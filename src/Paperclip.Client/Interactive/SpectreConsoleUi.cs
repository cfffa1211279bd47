using Paperclip.Client.Shell;
using Spectre.Console;

namespace Paperclip.Client.Interactive;

/// <summary>Interactive mode on a terminal: Spectre.Console menus, prompts, tables and spinners.</summary>
internal sealed class SpectreConsoleUi(IAnsiConsole console) : IConsoleUi
{
    public bool IsTerminal => true;

    public string? Ask(string prompt)
    {
        using var scope = ConsoleState.Prompt();
        return console.Prompt(new TextPrompt<string>(Markup.Escape(prompt) + ":").AllowEmpty());
    }

    public string? AskSecret(string prompt)
    {
        using var scope = ConsoleState.Prompt();
        return console.Prompt(new TextPrompt<string>(Markup.Escape(prompt) + ":").Secret().AllowEmpty());
    }

    public string? Choose(string title, IReadOnlyList<string> options)
    {
        using var scope = ConsoleState.Prompt();
        return console.Prompt(new SelectionPrompt<string>()
            .Title($"[bold]{Markup.Escape(title)}[/]")
            .PageSize(Math.Max(3, options.Count))
            .UseConverter(Markup.Escape)
            .AddChoices(options));
    }

    public void Title(string text) => console.Write(new Rule($"[bold yellow]{Markup.Escape(text)}[/]").LeftJustified());

    public void Info(string text) => console.MarkupLine(Markup.Escape(text));

    public void Success(string text) => console.MarkupLine($"[green]{Markup.Escape(text)}[/]");

    public void Warning(string text) => console.MarkupLine($"[yellow]{Markup.Escape(text)}[/]");

    public void Error(string text) => console.MarkupLine($"[red]{Markup.Escape(text)}[/]");

    public void Table(IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<string>> rows, string emptyText)
    {
        if (rows.Count == 0)
        {
            console.MarkupLine($"[grey]{Markup.Escape(emptyText)}[/]");
            return;
        }
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var header in headers)
            table.AddColumn(new TableColumn($"[bold]{Markup.Escape(header)}[/]"));
        foreach (var row in rows)
            table.AddRow([.. row.Select(Markup.Escape)]);
        console.Write(table);
    }

    public async Task<T> WaitAsync<T>(string status, Func<Action<string>, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var keys = new CancellationTokenSource();
        var watcher = Task.Run(() => WatchKeysAsync(leave, keys.Token), CancellationToken.None);
        try
        {
            return await console.Status().Spinner(Spinner.Known.Dots).StartAsync(Markup.Escape(status) + " [grey](q to leave)[/]", async context =>
                await work(text => context.Status(Markup.Escape(text) + " [grey](q to leave)[/]"), leave.Token).ConfigureAwait(false)).ConfigureAwait(false);
        }
        finally
        {
            await keys.CancelAsync().ConfigureAwait(false);
            await watcher.ConfigureAwait(false);
        }
    }

    // q or Escape while waiting cancels the wait.
    private static async Task WatchKeysAsync(CancellationTokenSource leave, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                while (Console.KeyAvailable)
                {
                    var key = Console.ReadKey(intercept: true);
                    if (key.Key is ConsoleKey.Q or ConsoleKey.Escape)
                    {
                        await leave.CancelAsync().ConfigureAwait(false);
                        return;
                    }
                }
                await Task.Delay(50, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (InvalidOperationException)
        {
            // No console to read keys from.
        }
    }
}
