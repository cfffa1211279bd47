namespace Paperclip.Games;

/// <summary>
/// A game's identity, written once by the game: the backend syncs it into its catalogue at
/// start, and lobbies and the lobby host take their sizes from it.
/// </summary>
/// <param name="Id">The catalogue id (assigned by the game, never generated).</param>
/// <param name="Name">The unique catalogue name.</param>
/// <param name="MinPlayers">The fewest players a match needs.</param>
/// <param name="MaxPlayers">The most players a lobby holds: the lobby's size.</param>
public sealed record GameDescriptor(long Id, string Name, int MinPlayers, int MaxPlayers);
