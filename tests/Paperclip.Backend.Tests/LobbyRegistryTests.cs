using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Paperclip.Backend.Lobbies;

namespace Paperclip.Backend.Tests;

/// <summary>The in-memory registry on its own, with a fake clock.</summary>
public sealed class LobbyRegistryTests
{
    private static readonly GameDescriptor Rps = new(1, "RPS", 2, 2);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private InMemoryLobbyRegistry Create(string ports = "40000-40009", ILobbyServerHost? host = null, int pruneSeconds = 60, int reservationSeconds = 30) =>
        new(
            Options.Create(new PaperclipOptions { Lobbies = { PortRange = ports, PruneSeconds = pruneSeconds, ReservationSeconds = reservationSeconds, PublicHost = "games.example" } }),
            host ?? new NullLobbyServerHost(),
            _time,
            NullLogger<InMemoryLobbyRegistry>.Instance);

    [Fact]
    public async Task Lobbies_get_ports_from_the_range_and_the_public_host()
    {
        var registry = Create("40000-40001");
        var a = await registry.CreateAsync(Rps, 1);
        var b = await registry.CreateAsync(Rps, 2);
        Assert.Equal(new LobbyAddress("games.example", 40000), a.Address);
        Assert.Equal(new LobbyAddress("games.example", 40001), b.Address);
        await Assert.ThrowsAsync<LobbyCapacityException>(async () => await registry.CreateAsync(Rps, 3));
    }

    [Fact]
    public async Task Empty_lobbies_are_pruned_after_the_prune_time_from_creation_and_their_ports_freed()
    {
        var host = new RecordingHost();
        var registry = Create("40000-40000", host);
        var lobby = await registry.CreateAsync(Rps, 1);
        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.Empty(await registry.PruneAsync());
        _time.Advance(TimeSpan.FromSeconds(1));
        var removed = await registry.PruneAsync();
        Assert.Equal(lobby.LobbyId, Assert.Single(removed).LobbyId);
        Assert.Null(registry.GetLobby(lobby.LobbyId));
        Assert.Equal([lobby.LobbyId], host.Stopped);
        var again = await registry.CreateAsync(Rps, 2);
        Assert.Equal(40000, again.Address.Port);
    }

    [Fact]
    public async Task Lobbies_with_members_are_kept_and_pruned_after_the_last_leaves()
    {
        var registry = Create();
        var lobby = await registry.CreateAsync(Rps, 1);
        Assert.True(registry.MemberJoined(lobby.LobbyId, 1));
        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.Empty(await registry.PruneAsync());
        registry.MemberLeft(lobby.LobbyId, 1);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Empty(await registry.PruneAsync());
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Single(await registry.PruneAsync());
    }

    [Fact]
    public async Task Reservations_expire_and_free_their_place()
    {
        var registry = Create();
        var a = await registry.MatchmakeAsync(Rps, 1);
        var b = await registry.MatchmakeAsync(Rps, 2);
        Assert.Equal(a.Lobby.LobbyId, b.Lobby.LobbyId);
        Assert.Null(registry.FindWithSpace(Rps.Id));
        Assert.False(registry.MemberJoined(a.Lobby.LobbyId, 3));

        _time.Advance(TimeSpan.FromSeconds(31));
        Assert.NotNull(registry.FindWithSpace(Rps.Id));
        var c = await registry.MatchmakeAsync(Rps, 3);
        Assert.Equal(a.Lobby.LobbyId, c.Lobby.LobbyId);
        Assert.False(c.Created);
    }

    [Fact]
    public async Task Joining_uses_the_reservation_and_refuses_when_full()
    {
        var registry = Create();
        var lobby = (await registry.MatchmakeAsync(Rps, 1)).Lobby;
        Assert.True(registry.MemberJoined(lobby.LobbyId, 2));
        Assert.False(registry.MemberJoined(lobby.LobbyId, 3));
        Assert.True(registry.MemberJoined(lobby.LobbyId, 1));
        var snapshot = registry.GetLobby(lobby.LobbyId)!;
        Assert.True(snapshot.IsFull);
        Assert.Empty(snapshot.Reservations);
        Assert.True(registry.MemberJoined(lobby.LobbyId, 1));
        Assert.False(registry.MemberJoined(12345, 1));
    }

    [Fact]
    public async Task A_host_that_fails_to_start_frees_the_port_and_reports_capacity()
    {
        var host = new RecordingHost { FailStarts = true };
        var registry = Create("40000-40000", host);
        await Assert.ThrowsAsync<LobbyCapacityException>(async () => await registry.MatchmakeAsync(Rps, 1));
        Assert.Empty(registry.List());
        host.FailStarts = false;
        Assert.Equal(40000, (await registry.CreateAsync(Rps, 1)).Address.Port);
    }

    [Fact]
    public async Task Concurrent_matchmaking_in_process_never_overfills()
    {
        var registry = Create("40000-40999");
        var game = new GameDescriptor(7, "Quad", 2, 4);
        var results = await Task.WhenAll(Enumerable.Range(1, 1000).Select(id => Task.Run(async () => await registry.MatchmakeAsync(game, id))));
        Assert.Equal(250, results.Select(r => r.Lobby.LobbyId).Distinct().Count());
        Assert.All(registry.List(), l => Assert.Equal(4, l.Reservations.Count));
    }

    [Fact]
    public void Port_ranges_parse()
    {
        Assert.Equal(new PortRange(40000, 40999), PortRange.Parse("40000-40999"));
        Assert.Equal(new PortRange(5000, 5000), PortRange.Parse("5000"));
        Assert.Throws<FormatException>(() => PortRange.Parse("9-1"));
        Assert.Throws<FormatException>(() => PortRange.Parse("0-10"));
        Assert.Throws<FormatException>(() => PortRange.Parse("a-b"));
    }

    private sealed class RecordingHost : ILobbyServerHost
    {
        public bool FailStarts { get; set; }

        public List<long> Stopped { get; } = [];

        public ValueTask StartAsync(LobbySnapshot lobby, CancellationToken cancellationToken) =>
            FailStarts ? throw new InvalidOperationException("port in use") : ValueTask.CompletedTask;

        public ValueTask StopAsync(long lobbyId, CancellationToken cancellationToken)
        {
            Stopped.Add(lobbyId);
            return ValueTask.CompletedTask;
        }
    }
}
