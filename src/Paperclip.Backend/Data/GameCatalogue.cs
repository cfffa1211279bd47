using Microsoft.EntityFrameworkCore;
using Paperclip.Games;

namespace Paperclip.Backend.Data;

/// <summary>
/// Writes each registered game's descriptor into the games table, so the game's own code is the
/// one place its id, name and player counts are written. A row whose game is no longer
/// registered stays (its id is never given to another game).
/// </summary>
public static class GameCatalogue
{
    /// <summary>Adds the games the table lacks and corrects the rows that differ; returns how many rows it wrote.</summary>
    /// <exception cref="InvalidOperationException">Two games share an id or a name, or a game's player counts are not 1 ≤ min ≤ max.</exception>
    public static async Task<int> SyncAsync(PaperclipDbContext db, IEnumerable<GameDescriptor> games, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(games);
        var descriptors = Checked(games);
        var rows = await db.Games.ToDictionaryAsync(g => g.Id, cancellationToken).ConfigureAwait(false);
        var written = 0;
        foreach (var game in descriptors)
        {
            if (!rows.TryGetValue(game.Id, out var row))
            {
                db.Games.Add(new Game { Id = game.Id, Name = game.Name, MinPlayers = game.MinPlayers, MaxPlayers = game.MaxPlayers });
                written++;
            }
            else if (row.Name != game.Name || row.MinPlayers != game.MinPlayers || row.MaxPlayers != game.MaxPlayers)
            {
                (row.Name, row.MinPlayers, row.MaxPlayers) = (game.Name, game.MinPlayers, game.MaxPlayers);
                written++;
            }
        }

        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        db.ChangeTracker.Clear();
        return written;
    }

    // A clash is a programming error of the composition; it stops the start with the two games named.
    private static List<GameDescriptor> Checked(IEnumerable<GameDescriptor> games)
    {
        var list = games.Distinct().ToList();
        foreach (var game in list)
        {
            if (game.MinPlayers < 1 || game.MaxPlayers < game.MinPlayers)
                throw new InvalidOperationException($"Game {game.Id} ('{game.Name}') needs 1 <= MinPlayers <= MaxPlayers (it has {game.MinPlayers} and {game.MaxPlayers}).");
            var clash = list.Find(other => other != game && (other.Id == game.Id || string.Equals(other.Name, game.Name, StringComparison.OrdinalIgnoreCase)));
            if (clash is not null)
                throw new InvalidOperationException($"Games {game.Id} ('{game.Name}') and {clash.Id} ('{clash.Name}') share an id or a name.");
        }
        return list;
    }
}
