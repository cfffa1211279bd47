using System.Diagnostics.Metrics;
using Paperclip.Backend.Lobbies;
using Paperclip.Backend.Security;

namespace Paperclip.Backend.Operations;

/// <summary>
/// The <c>Paperclip.Backend</c> meter: password logins by outcome, matchmaking by outcome, and
/// the registry's lobbies by state with their members and reservations (<see cref="LobbyCensus"/>).
/// </summary>
public sealed class BackendMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Paperclip.Backend";

    private readonly Counter<long> _logins;
    private readonly Counter<long> _matchmakes;

    /// <summary>Creates the instruments on the host's meter factory.</summary>
    public BackendMetrics(IMeterFactory meters, ILobbyRegistry registry, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var census = new LobbyCensus(registry, time);
        var meter = meters.Create(MeterName);
        _logins = meter.CreateCounter<long>("paperclip.backend.logins", "{login}", "Password checks by result: succeeded, failed or throttled.");
        _matchmakes = meter.CreateCounter<long>("paperclip.backend.matchmakes", "{matchmake}", "Places handed out by matchmaking, by result: joined (an existing lobby), created (a new one) or unavailable.");
        meter.CreateObservableUpDownCounter("paperclip.backend.lobbies", () => LobbiesByState(census.Read()), "{lobby}", "Lobbies in the registry, by state.");
        meter.CreateObservableUpDownCounter("paperclip.backend.lobby.members", () => census.Read().Members, "{account}", "Accounts joined to a lobby.");
        meter.CreateObservableUpDownCounter("paperclip.backend.lobby.reservations", () => census.Read().Reservations, "{account}", "Places reserved for accounts that have not joined yet.");
    }

    /// <summary>Counts a password check.</summary>
    public void Login(LoginStatus status) => _logins.Add(1, new KeyValuePair<string, object?>("result", status switch
    {
        LoginStatus.Success => "succeeded",
        LoginStatus.Throttled => "throttled",
        _ => "failed",
    }));

    /// <summary>Counts a matchmake: <paramref name="created"/> when a new lobby was made, null when none could be.</summary>
    public void Matchmake(bool? created) => _matchmakes.Add(1, new KeyValuePair<string, object?>("result", created switch
    {
        true => "created",
        false => "joined",
        null => "unavailable",
    }));

    /// <summary>A lobby's state as operators see it.</summary>
    public static string StateOf(LobbySnapshot lobby)
    {
        ArgumentNullException.ThrowIfNull(lobby);
        return lobby.Members.Count == 0 ? "empty" : lobby.IsFull ? "full" : "open";
    }

    private static Measurement<long>[] LobbiesByState(LobbyCensus.Counts counts) =>
    [
        new(counts.Empty, new KeyValuePair<string, object?>("state", "empty")),
        new(counts.Open, new KeyValuePair<string, object?>("state", "open")),
        new(counts.Full, new KeyValuePair<string, object?>("state", "full")),
    ];
}
