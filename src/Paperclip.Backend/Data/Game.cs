namespace Paperclip.Backend.Data;

/// <summary>A game in the catalogue.</summary>
public sealed class Game
{
    /// <summary>The rock-paper-scissors game that every database holds.</summary>
    public static readonly Game Rps = new() { Id = 1, Name = "RPS", MinPlayers = 2, MaxPlayers = 2 };

    /// <summary>The game id (assigned by the catalogue, not generated).</summary>
    public long Id { get; set; }

    /// <summary>The unique game name.</summary>
    public required string Name { get; set; }

    /// <summary>The fewest players a match needs.</summary>
    public int MinPlayers { get; set; }

    /// <summary>The most players a lobby holds.</summary>
    public int MaxPlayers { get; set; }
}
