using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Paperclip.Games;

namespace Paperclip.Backend.Data;

/// <summary>
/// The games catalogue in memory, for the lookup every lobby request makes: the table changes
/// only when a process starts and syncs its games (<see cref="GameCatalogue"/>), so a game found
/// once is answered without the database. A game not known here (first use, another node's start
/// added it, or no such game) reloads the table once, the one query a lookup cost before.
/// </summary>
public sealed class GameLookup(IServiceScopeFactory scopes)
{
    private volatile IReadOnlyList<GameDescriptor> _games = [];

    /// <summary>Finds a game by id, or else by name (the exact name first, then case-insensitive).</summary>
    public async ValueTask<GameDescriptor?> FindAsync(long? id, string? name, CancellationToken cancellationToken)
    {
        if (Find(_games, id, name) is { } known)
            return known;
        var scope = scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var db = scope.ServiceProvider.GetRequiredService<PaperclipDbContext>();
            var rows = await db.Games.AsNoTracking().OrderBy(g => g.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
            var games = rows.ConvertAll(g => new GameDescriptor(g.Id, g.Name, g.MinPlayers, g.MaxPlayers));
            _games = games;
            return Find(games, id, name);
        }
    }

    private static GameDescriptor? Find(IReadOnlyList<GameDescriptor> games, long? id, string? name)
    {
        if (id is { } gameId)
            return games.FirstOrDefault(g => g.Id == gameId);
        return games.FirstOrDefault(g => string.Equals(g.Name, name, StringComparison.Ordinal))
            ?? games.FirstOrDefault(g => string.Equals(g.Name, name, StringComparison.OrdinalIgnoreCase));
    }
}
