using System.Diagnostics.Metrics;
using Paperclip.Backend.Lobbies;
using Paperclip.Backend.Security;

namespace Paperclip.Backend.Operations;

/// <summary>
/// The <c>Paperclip.Backend</c> meter: password logins by outcome, matchmaking by outcome, and
/// the registry's lobbies by state with their members and reservations (read when collected).
/// </summary>
public sealed class BackendMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Paperclip.Backend";

    private readonly Counter<long> _logins;
    private readonly Counter<long> _matchmakes;

    /// <summary>Creates the instruments on the host's meter factory.</summary>
    public BackendMetrics(IMeterFactory meters, ILobbyRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        _logins = meter.CreateCounter<long>("paperclip.backend.logins", "{login}", "Password checks by result: succeeded, failed or throttled.");
        _matchmakes = meter.CreateCounter<long>("paperclip.backend.matchmakes", "{matchmake}", "Places handed out by matchmaking, by result: joined (an existing lobby), created (a new one) or unavailable.");
        meter.CreateObservableUpDownCounter("paperclip.backend.lobbies", () => LobbiesByState(ListForScrape(registry)), "{lobby}", "Lobbies in the registry, by state.");
        meter.CreateObservableUpDownCounter("paperclip.backend.lobby.members", () => ListForScrape(registry).Sum(l => (long)l.Members.Count), "{account}", "Accounts joined to a lobby.");
        meter.CreateObservableUpDownCounter("paperclip.backend.lobby.reservations", () => ListForScrape(registry).Sum(l => (long)l.Reservations.Count), "{account}", "Places reserved for accounts that have not joined yet.");
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

    // Observable instruments are read synchronously, once per scrape (not per request): the
    // scrape waits for the registry. A registry that cannot answer reports no lobbies.
    private static IReadOnlyList<LobbySnapshot> ListForScrape(ILobbyRegistry registry)
    {
        try
        {
            return registry.ListAsync().AsTask().GetAwaiter().GetResult();
        }
        catch (LobbyRegistryUnavailableException)
        {
            return [];
        }
    }

    private static IEnumerable<Measurement<long>> LobbiesByState(IReadOnlyList<LobbySnapshot> lobbies)
    {
        var counts = new Dictionary<string, long> { ["empty"] = 0, ["open"] = 0, ["full"] = 0 };
        foreach (var lobby in lobbies)
            counts[StateOf(lobby)]++;
        return counts.Select(c => new Measurement<long>(c.Value, new KeyValuePair<string, object?>("state", c.Key)));
    }
}
