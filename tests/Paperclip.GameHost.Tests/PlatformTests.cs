using System.Net;
using System.Net.Sockets;
using Paperclip.Games.RockPaperScissors;
using Paperclip.Protocol;
using Paperclip.Transport;

namespace Paperclip.GameHost.Tests;

/// <summary>End to end: accounts, friends, matchmaking and rock-paper-scissors over the real game server.</summary>
public sealed class PlatformTests
{
    [Fact]
    public async Task Two_friends_matchmake_play_every_outcome_and_the_empty_lobby_is_pruned()
    {
        await using var platform = new Platform();
        await using var alice = await platform.RegisterAsync("alice");
        await using var bob = await platform.RegisterAsync("bob");

        await alice.PostAsync("/friends/add", new { username = "bob" }, HttpStatusCode.Created);
        var bobsFriends = await bob.GetAsync("/friends/");
        Assert.Equal("alice", bobsFriends.GetProperty("friends")[0].GetProperty("username").GetString());

        var lobby = await alice.PostAsync("/lobby/matchmake", new Dictionary<string, string> { ["game-name"] = "RPS" }, HttpStatusCode.Created);
        var lobbyId = lobby.GetProperty("lobby-id").GetInt64();
        await alice.JoinAsync(lobby);
        await Wait.UntilAsync(async () => (await alice.GetAsync("/lobby/members")).GetProperty(Id(lobbyId)).GetArrayLength() == 1, "Alice is a member");

        // Bob finds Alice's lobby through his friends, then matchmaking puts him in it.
        var friendsLobbies = await bob.GetAsync("/lobby/friends");
        Assert.Equal(lobbyId, friendsLobbies[0].GetProperty("lobbies")[0].GetProperty("lobby-id").GetInt64());
        var same = await bob.PostAsync("/lobby/matchmake", new Dictionary<string, string> { ["game-name"] = "RPS" }, HttpStatusCode.OK);
        Assert.Equal(lobbyId, same.GetProperty("lobby-id").GetInt64());
        await bob.JoinAsync(same);

        await Wait.UntilAsync(async () => (await alice.GetAsync("/lobby/members")).GetProperty(Id(lobbyId)).GetArrayLength() == 2, "both are members");
        // Each is told who sat down across, on the game's reliable ordered events channel.
        var (toAlice, aliceInfo) = alice.Presence.Next();
        Assert.Equal(new PresenceMessage(PresenceMessage.Joined, "bob"), toAlice);
        Assert.Equal((Delivery.ReliableOrdered, RockPaperScissorsGame.EventsChannel), (aliceInfo.Delivery, aliceInfo.Channel));
        Assert.Equal(new PresenceMessage(PresenceMessage.Joined, "alice"), bob.Presence.Next().Presence);
        var all = (await alice.GetAsync("/lobby/all")).GetProperty(Id(lobbyId));
        Assert.True(all.GetProperty("is-full").GetBoolean());

        // Win, lose, draw for Alice; the scores run on.
        PlayRound(alice, Choice.Rock, bob, Choice.Scissors, Outcome.Win, (1, 0));
        PlayRound(alice, Choice.Rock, bob, Choice.Paper, Outcome.Lose, (1, 1));
        PlayRound(alice, Choice.Paper, bob, Choice.Paper, Outcome.Draw, (1, 1));

        // A bad move is refused with a readable ERROR and the round goes on.
        alice.Game!.Send("{\"choice\": 7}"u8, Delivery.Reliable);
        var error = alice.Errors.Next();
        Assert.Contains("0 (rock)", error.Text, StringComparison.Ordinal);
        alice.Game.Send("not json"u8, Delivery.Reliable);
        Assert.Contains("JSON", alice.Errors.Next().Text, StringComparison.Ordinal);
        PlayRound(alice, Choice.Scissors, bob, Choice.Paper, Outcome.Win, (2, 1));

        // Bob leaves: he is no longer a member. Then Alice leaves; after the prune time the lobby is gone and its port free.
        await bob.LeaveAsync();
        Assert.Equal(new PresenceMessage(PresenceMessage.Left, "bob"), alice.Presence.Next().Presence);
        await Wait.UntilAsync(async () => (await alice.GetAsync("/lobby/members")).GetProperty(Id(lobbyId)).GetArrayLength() == 1, "Bob left");
        await alice.LeaveAsync();
        await Wait.UntilAsync(async () => (await alice.GetAsync("/lobby/members")).GetProperty(Id(lobbyId)).GetArrayLength() == 0, "Alice left");

        platform.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.OK, (await alice.Http.GetAsync($"/lobby/?lobby-id={lobbyId}", Platform.Token)).StatusCode);
        platform.Time.Advance(TimeSpan.FromSeconds(35));
        await Wait.UntilAsync(async () => (await alice.Http.GetAsync($"/lobby/?lobby-id={lobbyId}", Platform.Token)).StatusCode == HttpStatusCode.NotFound, "the lobby was pruned");
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, lobby.GetProperty("lobby-addr")[1].GetInt32()));
    }

    [Fact]
    public async Task Third_player_is_refused_by_a_full_lobby_and_matchmaking_opens_another()
    {
        await using var platform = new Platform();
        await using var alice = await platform.RegisterAsync("alice");
        await using var bob = await platform.RegisterAsync("bob");
        await using var carol = await platform.RegisterAsync("carol");

        var lobby = await alice.PostAsync("/lobby/create", new Dictionary<string, string> { ["game-name"] = "RPS" }, HttpStatusCode.Created);
        await alice.JoinAsync(lobby);
        await bob.JoinAsync(await bob.PostAsync("/lobby/matchmake", new Dictionary<string, string> { ["game-name"] = "RPS" }, HttpStatusCode.OK));

        // Carol goes straight to the full lobby's address: the game server refuses her.
        await Assert.ThrowsAsync<NoSpaceException>(() => carol.JoinAsync(lobby));

        var other = await carol.PostAsync("/lobby/matchmake", new Dictionary<string, string> { ["game-name"] = "RPS" }, HttpStatusCode.Created);
        Assert.NotEqual(lobby.GetProperty("lobby-id").GetInt64(), other.GetProperty("lobby-id").GetInt64());
        await carol.JoinAsync(other);
    }

    [Fact]
    public async Task Reserved_place_is_kept_for_the_matchmade_player()
    {
        await using var platform = new Platform();
        await using var alice = await platform.RegisterAsync("alice");
        await using var bob = await platform.RegisterAsync("bob");
        await using var carol = await platform.RegisterAsync("carol");

        var lobby = await alice.PostAsync("/lobby/matchmake", new Dictionary<string, string> { ["game-name"] = "RPS" }, HttpStatusCode.Created);
        await bob.PostAsync("/lobby/matchmake", new Dictionary<string, string> { ["game-name"] = "RPS" }, HttpStatusCode.OK);
        await alice.JoinAsync(lobby);

        // Bob holds the second place: Carol, who has no reservation, cannot take it.
        await Assert.ThrowsAsync<NoSpaceException>(() => carol.JoinAsync(lobby));
        await bob.JoinAsync(lobby);
    }

    [Fact]
    public async Task Hand_chosen_before_the_opponent_sits_down_is_kept()
    {
        await using var platform = new Platform();
        await using var alice = await platform.RegisterAsync("alice");
        await using var bob = await platform.RegisterAsync("bob");
        var lobby = await alice.PostAsync("/lobby/matchmake", new Dictionary<string, string> { ["game-name"] = "RPS" }, HttpStatusCode.Created);
        await alice.JoinAsync(lobby);
        alice.Choose(Choice.Paper);
        await Wait.UntilAsync(async () => (await alice.GetAsync("/lobby/members")).GetProperty(Id(lobby.GetProperty("lobby-id").GetInt64())).GetArrayLength() == 1, "Alice is seated");

        await bob.JoinAsync(await bob.PostAsync("/lobby/matchmake", new Dictionary<string, string> { ["game-name"] = "RPS" }, HttpStatusCode.OK));
        await Wait.UntilAsync(async () => (await bob.GetAsync("/lobby/members")).GetProperty(Id(lobby.GetProperty("lobby-id").GetInt64())).GetArrayLength() == 2, "Bob is seated");
        bob.Choose(Choice.Rock);
        Assert.Equal((int)Outcome.Win, alice.Results.Next().Outcome);
        Assert.Equal((int)Outcome.Lose, bob.Results.Next().Outcome);
    }

    [Fact]
    public async Task Backend_shutdown_tells_every_player()
    {
        var platform = new Platform();
        await using var alice = await platform.RegisterAsync("alice");
        var lobby = await alice.PostAsync("/lobby/create", new Dictionary<string, string> { ["game-name"] = "RPS" }, HttpStatusCode.Created);
        await alice.JoinAsync(lobby);
        await Wait.UntilAsync(async () => (await alice.GetAsync("/lobby/members")).EnumerateObject().First().Value.GetArrayLength() == 1, "Alice joined");

        await platform.DisposeAsync();
        Assert.Equal(DisconnectReason.ServerDisconnect, alice.Disconnects.Next().Reason);
    }

    private static string Id(long lobbyId) => lobbyId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static void PlayRound(Player first, Choice firstChoice, Player second, Choice secondChoice, Outcome firstOutcome, (int First, int Second) scores)
    {
        first.Choose(firstChoice);
        second.Choose(secondChoice);
        var a = first.Results.Next();
        var b = second.Results.Next();
        Assert.Equal(new RoundResult((int)firstOutcome, (int)firstChoice, (int)secondChoice, new Score(scores.First), new Score(scores.Second)), a);
        var secondOutcome = firstOutcome switch { Outcome.Win => Outcome.Lose, Outcome.Lose => Outcome.Win, _ => Outcome.Draw };
        Assert.Equal(new RoundResult((int)secondOutcome, (int)secondChoice, (int)firstChoice, new Score(scores.Second), new Score(scores.First)), b);
    }
}
