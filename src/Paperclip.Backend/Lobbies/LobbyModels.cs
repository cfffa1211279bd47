using Paperclip.Contracts;
using Paperclip.Games;

namespace Paperclip.Backend.Lobbies;

/// <summary>Where a lobby's game server listens: the public host and its UDP port.</summary>
/// <param name="Host">The configured public host.</param>
/// <param name="Port">The UDP port.</param>
public sealed record LobbyAddress(string Host, int Port);

/// <summary>An immutable view of a lobby at one moment.</summary>
/// <param name="LobbyId">The lobby id.</param>
/// <param name="Game">The lobby's game.</param>
/// <param name="Address">The game server's address.</param>
/// <param name="Members">The accounts that joined (completed the handshake), in join order.</param>
/// <param name="Reservations">The accounts holding a place that have not joined yet.</param>
/// <param name="CreatedAt">When the lobby was created.</param>
/// <param name="State">Where the lobby's game server is in its life.</param>
public sealed record LobbySnapshot(
    long LobbyId,
    GameDescriptor Game,
    LobbyAddress Address,
    IReadOnlyList<long> Members,
    IReadOnlyList<long> Reservations,
    DateTimeOffset CreatedAt,
    LobbyState State = LobbyState.Ready)
{
    /// <summary>The lobby's size: the game's max players.</summary>
    public int Size => Game.MaxPlayers;

    /// <summary>True when the joined members fill the lobby.</summary>
    public bool IsFull => Members.Count >= Size;

    /// <summary>True when a place is neither taken nor reserved.</summary>
    public bool HasSpace => Members.Count + Reservations.Count < Size;
}

/// <summary>The place matchmaking handed out.</summary>
/// <param name="Lobby">The lobby.</param>
/// <param name="Created">True when the lobby was created for this call.</param>
public sealed record LobbyAssignment(LobbySnapshot Lobby, bool Created);

/// <summary>No lobby can be created: no free port, or the game server could not start.</summary>
public sealed class LobbyCapacityException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LobbyCapacityException()
        : this("No capacity for a new lobby.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public LobbyCapacityException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public LobbyCapacityException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A lobby's port is held by another program: the registry tries the next free port.</summary>
public sealed class LobbyPortUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LobbyPortUnavailableException()
        : this("The lobby's port is in use.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public LobbyPortUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public LobbyPortUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The registry's shared store cannot answer (unreachable, timed out) or has lost its state:
/// the API answers 503 rather than a guess.
/// </summary>
public sealed class LobbyRegistryUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LobbyRegistryUnavailableException()
        : this("The lobby registry is unavailable.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public LobbyRegistryUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public LobbyRegistryUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
