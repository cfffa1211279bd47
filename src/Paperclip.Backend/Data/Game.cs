namespace Paperclip.Backend.Data;

/// <summary>A game in the catalogue, written from its <see cref="Paperclip.Games.GameDescriptor"/> at start (<see cref="GameCatalogue"/>).</summary>
public sealed class Game
{
    /// <summary>The game id (assigned by the catalogue, not generated).</summary>
    public long Id { get; set; }

    /// <summary>The unique game name.</summary>
    public required string Name { get; set; }

    /// <summary>The fewest players a match needs.</summary>
    public int MinPlayers { get; set; }

    /// <summary>The most players a lobby holds.</summary>
    public int MaxPlayers { get; set; }
}
