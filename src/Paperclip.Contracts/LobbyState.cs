using System.Text.Json.Serialization;

namespace Paperclip.Contracts;

/// <summary>
/// A lobby's life, after Agones' game-server states: <see cref="Scheduled"/> until its game
/// server listens, <see cref="Ready"/> with no members, <see cref="Allocated"/> with members,
/// <see cref="Draining"/> while its host stops (no new players are placed), <see cref="Shutdown"/>
/// when it has stopped (it then leaves the registry). Written in JSON by name (<c>"Ready"</c>).
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<LobbyState>))]
public enum LobbyState
{
    /// <summary>Placed on a host whose game server has not reported listening yet.</summary>
    Scheduled,

    /// <summary>The game server listens; no member has joined.</summary>
    Ready,

    /// <summary>The game server has members.</summary>
    Allocated,

    /// <summary>The lobby's host is stopping: its players stay, no new ones are placed.</summary>
    Draining,

    /// <summary>The game server stopped.</summary>
    Shutdown,
}
