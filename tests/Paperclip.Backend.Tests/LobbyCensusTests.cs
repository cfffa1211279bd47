using Microsoft.Extensions.Time.Testing;
using Paperclip.Backend.Lobbies;
using Paperclip.Backend.Operations;
using Paperclip.Games;

namespace Paperclip.Backend.Tests;

/// <summary>
/// The lobby instruments' census: one registry listing per collection, and a collection that a
/// slow registry holds up for a bounded time only. The registry here is a stand-in that answers
/// ListAsync from a list (or not at all); the census over the real registries is what
/// OperationsTests and the game host's MetricsTests read through /metrics.
/// </summary>
public sealed class LobbyCensusTests
{
    private static readonly GameDescriptor Game = new(1, "RPS", 2, 2);
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public void The_instruments_of_one_collection_share_one_listing_and_a_later_collection_lists_again()
    {
        var registry = new ListingRegistry { Lobbies = [Lobby(1, members: [10], reservations: [11]), Lobby(2, members: [20, 21], reservations: [])] };
        var census = new LobbyCensus(registry, _clock);

        var counts = census.Read();
        Assert.Equal(census.Read(), counts);
        Assert.Equal(census.Read(), counts);

        Assert.Equal(1, registry.Listings);
        Assert.Equal(new LobbyCensus.Counts(Empty: 0, Open: 1, Full: 1, Members: 3, Reservations: 1), counts);
        registry.Lobbies = [];
        _clock.Advance(LobbyCensus.ReuseFor);
        Assert.Equal(LobbyCensus.Counts.None, census.Read());
        Assert.Equal(2, registry.Listings);
    }

    [Fact]
    public void A_registry_that_does_not_answer_holds_a_collection_for_the_wait_limit_then_the_last_counts_are_reported()
    {
        var registry = new ListingRegistry { Lobbies = [Lobby(1, members: [10], reservations: [])] };
        var census = new LobbyCensus(registry, _clock);
        var before = census.Read();
        var stalled = new TaskCompletionSource<IReadOnlyList<LobbySnapshot>>();
        registry.Answer = stalled.Task;
        _clock.Advance(LobbyCensus.ReuseFor);

        var waited = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(before, census.Read());
        Assert.InRange(waited.Elapsed, LobbyCensus.WaitLimit * 0.9, TimeSpan.FromSeconds(30));
        Assert.Equal(before, census.Read()); // still waiting: the same listing, not a second one
        Assert.Equal(2, registry.Listings);

        stalled.SetResult([]);
        Assert.Equal(LobbyCensus.Counts.None, census.Read());
        Assert.Equal(2, registry.Listings);
    }

    [Fact]
    public void An_unavailable_registry_counts_no_lobbies()
    {
        var registry = new ListingRegistry { Failure = new LobbyRegistryUnavailableException("down") };
        Assert.Equal(LobbyCensus.Counts.None, new LobbyCensus(registry, _clock).Read());
    }

    private static LobbySnapshot Lobby(long id, long[] members, long[] reservations) =>
        new(id, Game, new LobbyAddress("127.0.0.1", 27000 + (int)id), members, reservations, DateTimeOffset.UnixEpoch);

    private sealed class ListingRegistry : ILobbyRegistry
    {
        public IReadOnlyList<LobbySnapshot> Lobbies { get; set; } = [];

        public Task<IReadOnlyList<LobbySnapshot>>? Answer { get; set; }

        public Exception? Failure { get; set; }

        public int Listings { get; private set; }

        public ValueTask<IReadOnlyList<LobbySnapshot>> ListAsync(CancellationToken cancellationToken = default)
        {
            Listings++;
            if (Failure is not null)
                return ValueTask.FromException<IReadOnlyList<LobbySnapshot>>(Failure);
            return Answer is { } answer ? new ValueTask<IReadOnlyList<LobbySnapshot>>(answer) : ValueTask.FromResult(Lobbies);
        }

        public ValueTask<LobbySnapshot?> GetLobbyAsync(long lobbyId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask<LobbySnapshot?> FindWithSpaceAsync(long gameId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask<LobbySnapshot> CreateAsync(GameDescriptor game, long accountId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask<LobbyAssignment> MatchmakeAsync(GameDescriptor game, long accountId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask<LobbySnapshot?> RemoveAsync(long lobbyId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask<IReadOnlyList<LobbySnapshot>> PruneAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
