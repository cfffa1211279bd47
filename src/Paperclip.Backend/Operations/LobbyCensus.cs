using Paperclip.Backend.Lobbies;

namespace Paperclip.Backend.Operations;

/// <summary>
/// The registry's lobbies counted for a metrics collection: one listing serves every lobby
/// instrument of a collection (they are read one after another), and a registry that is slow to
/// answer — Redis across the network — holds a collection up for at most <see cref="WaitLimit"/>,
/// after which the last counts known are reported and the listing finishes for the next one.
/// Before, each instrument listed the registry itself and waited as long as it took.
/// </summary>
internal sealed class LobbyCensus(ILobbyRegistry registry, TimeProvider time)
{
    /// <summary>How long a census answers for the instruments read after it.</summary>
    public static readonly TimeSpan ReuseFor = TimeSpan.FromSeconds(1);

    /// <summary>Longest a collection waits for the registry.</summary>
    public static readonly TimeSpan WaitLimit = TimeSpan.FromMilliseconds(500);

    private readonly Lock _lock = new();
    private Counts? _current;
    private long _takenAt;
    private Task<Counts>? _taking;

    /// <summary>Lobbies by state, members and reservations.</summary>
    public Counts Read()
    {
        lock (_lock)
        {
            if (_current is { } current && time.GetElapsedTime(_takenAt) < ReuseFor)
                return current;
            _taking ??= TakeAsync();
            try
            {
                if (_taking.Wait(WaitLimit))
                {
                    _current = _taking.Result;
                    _takenAt = time.GetTimestamp();
                    _taking = null;
                }
            }
            catch (AggregateException)
            {
                _taking = null; // logged by the registry; the next collection lists again
            }
            return _current ?? Counts.None;
        }
    }

    private async Task<Counts> TakeAsync()
    {
        IReadOnlyList<LobbySnapshot> lobbies;
        try
        {
            lobbies = await registry.ListAsync().ConfigureAwait(false);
        }
        catch (LobbyRegistryUnavailableException)
        {
            return Counts.None; // a registry that cannot answer reports no lobbies
        }
        long empty = 0, open = 0, full = 0, members = 0, reservations = 0;
        foreach (var lobby in lobbies)
        {
            switch (BackendMetrics.StateOf(lobby))
            {
                case "empty": empty++; break;
                case "full": full++; break;
                default: open++; break;
            }
            members += lobby.Members.Count;
            reservations += lobby.Reservations.Count;
        }
        return new Counts(empty, open, full, members, reservations);
    }

    internal sealed record Counts(long Empty, long Open, long Full, long Members, long Reservations)
    {
        public static Counts None { get; } = new(0, 0, 0, 0, 0);
    }
}
