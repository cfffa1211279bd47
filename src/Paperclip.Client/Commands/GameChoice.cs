using Paperclip.Client.Api;
using Paperclip.Client.Shell;

namespace Paperclip.Client.Commands;

/// <summary>The game a lobby command means: the one given with <c>--game</c>, else the server's only game.</summary>
internal static class GameChoice
{
    /// <summary>The game's name or id as given, or the name of the one game in the server's catalogue.</summary>
    /// <exception cref="UsageException">No game was given and the server has none, or several.</exception>
    public static async Task<string> ResolveAsync(PaperclipApi api, string? game, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(game))
            return game;
        var games = await api.GetGamesAsync(cancellationToken).ConfigureAwait(false);
        return games switch
        {
            [var only] => only.Name,
            [] => throw new UsageException("The server has no games."),
            _ => throw new UsageException($"The server has {games.Count} games: choose one with --game ({string.Join(", ", games.Select(g => g.Name))})."),
        };
    }
}
