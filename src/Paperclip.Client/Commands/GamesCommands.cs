using System.Globalization;

namespace Paperclip.Client.Commands;

/// <summary><c>games</c>: the catalogue.</summary>
internal static class GamesCommands
{
    public static async Task<int> RunAsync(CliContext context)
    {
        CommandRunner.ExpectWords(context, 1);
        using var api = await context.LoginAsync().ConfigureAwait(false);
        foreach (var game in await api.GetGamesAsync(context.CancellationToken).ConfigureAwait(false))
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{game.Id}  {game.Name}"));
        return 0;
    }
}
