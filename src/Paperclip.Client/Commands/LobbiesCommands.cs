using System.Globalization;
using Paperclip.Client.Api;

namespace Paperclip.Client.Commands;

/// <summary><c>lobbies list|members|friends|show ID|create|join ID|matchmake</c>.</summary>
internal static class LobbiesCommands
{
    public static async Task<int> RunAsync(CliContext context)
    {
        var action = (context.CommandLine.Word(1) ?? "list").ToLowerInvariant();
        switch (action)
        {
            case "list":
            {
                CommandRunner.ExpectWords(context, 2);
                using var api = await context.LoginAsync().ConfigureAwait(false);
                var lobbies = await api.GetLobbiesAsync(context.CancellationToken).ConfigureAwait(false);
                foreach (var lobby in lobbies)
                    context.Out.WriteLine(Describe(lobby));
                if (lobbies.Count == 0)
                    context.Error.WriteLine("No lobbies: create one with 'lobbies create --game RPS' or play with 'play --game RPS'.");
                return 0;
            }
            case "members":
            {
                CommandRunner.ExpectWords(context, 2);
                using var api = await context.LoginAsync().ConfigureAwait(false);
                var members = await api.GetLobbyMembersAsync(context.CancellationToken).ConfigureAwait(false);
                var names = await KnownNamesAsync(api, context.CancellationToken).ConfigureAwait(false);
                foreach (var (lobbyId, accounts) in members.OrderBy(m => m.Key))
                    context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{lobbyId}: {MemberList(accounts, names)}"));
                if (members.Count == 0)
                    context.Error.WriteLine("No lobbies.");
                return 0;
            }
            case "friends":
            {
                CommandRunner.ExpectWords(context, 2);
                using var api = await context.LoginAsync().ConfigureAwait(false);
                var friends = await api.GetFriendsLobbiesAsync(context.CancellationToken).ConfigureAwait(false);
                foreach (var friend in friends)
                {
                    foreach (var lobby in friend.Lobbies)
                        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{friend.Username}  lobby {lobby.LobbyId}  {lobby.GameName}"));
                }
                if (friends.Count == 0)
                    context.Error.WriteLine("None of your friends is in a lobby with space.");
                return 0;
            }
            case "show":
            {
                var id = RequireLobbyId(context, action);
                using var api = await context.LoginAsync().ConfigureAwait(false);
                var lobby = await api.GetLobbyAsync(id, context.CancellationToken).ConfigureAwait(false);
                var summary = (await api.GetLobbiesAsync(context.CancellationToken).ConfigureAwait(false)).FirstOrDefault(l => l.LobbyId == id);
                context.Out.WriteLine(summary is null
                    ? string.Create(CultureInfo.InvariantCulture, $"Lobby {lobby.LobbyId}: game {lobby.GameId} at {Address(lobby)}")
                    : string.Create(CultureInfo.InvariantCulture, $"Lobby {lobby.LobbyId}: {summary.GameName} at {Address(lobby)}, {summary.Members}/{summary.Size} players{(summary.IsFull ? ", full" : "")}"));
                return 0;
            }
            case "create":
            {
                CommandRunner.ExpectWords(context, 2);
                var game = Game(context);
                using var api = await context.LoginAsync().ConfigureAwait(false);
                var lobby = await api.CreateLobbyAsync(game, context.CancellationToken).ConfigureAwait(false);
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Created lobby {lobby.LobbyId} ({game}) at {Address(lobby)}."));
                return 0;
            }
            case "matchmake":
            {
                CommandRunner.ExpectWords(context, 2);
                var game = Game(context);
                using var api = await context.LoginAsync().ConfigureAwait(false);
                var lobby = await api.MatchmakeAsync(game, context.CancellationToken).ConfigureAwait(false);
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{(lobby.Created ? "Created" : "Found")} lobby {lobby.LobbyId} ({game}) at {Address(lobby)}; a place is kept for you."));
                return 0;
            }
            case "join":
            {
                var id = RequireLobbyId(context, action);
                return await PlayCommands.JoinAndPlayAsync(context, api => api.GetLobbyAsync(id, context.CancellationToken)).ConfigureAwait(false);
            }
            default:
                throw new UsageException($"Unknown lobbies command '{action}': use list, members, friends, show ID, create, join ID or matchmake.");
        }
    }

    /// <summary>One line for a lobby: <c>3  RPS  1/2 players</c>.</summary>
    public static string Describe(LobbySummary lobby) =>
        string.Create(CultureInfo.InvariantCulture, $"{lobby.LobbyId}  {lobby.GameName}  {lobby.Members}/{lobby.Size} players{(lobby.IsFull ? "  full" : "")}");

    /// <summary><c>host:port</c>.</summary>
    public static string Address(LobbyInfo lobby) => lobby.Host.Contains(':', StringComparison.Ordinal)
        ? string.Create(CultureInfo.InvariantCulture, $"[{lobby.Host}]:{lobby.Port}")
        : string.Create(CultureInfo.InvariantCulture, $"{lobby.Host}:{lobby.Port}");

    /// <summary>The names this player knows for account ids: itself and its friends.</summary>
    public static async Task<Dictionary<long, string>> KnownNamesAsync(PaperclipApi api, CancellationToken cancellationToken)
    {
        var names = (await api.GetFriendsAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(f => f.Id, f => f.Username);
        if (api.AccountId is { } self && api.Username is { } me)
            names[self] = me;
        return names;
    }

    /// <summary>Members by name where known, else <c>#id</c>.</summary>
    public static string MemberList(IReadOnlyList<long> accounts, IReadOnlyDictionary<long, string> names) =>
        accounts.Count == 0
            ? "(empty)"
            : string.Join(", ", accounts.Select(a => names.TryGetValue(a, out var name) ? name : string.Create(CultureInfo.InvariantCulture, $"#{a}")));

    /// <summary><c>--game</c>, RPS when absent.</summary>
    public static string Game(CliContext context) => context.CommandLine.Option("game") is { Length: > 0 } game ? game : "RPS";

    private static long RequireLobbyId(CliContext context, string action)
    {
        var text = context.CommandLine.Word(2);
        if (text is null || !long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            throw new UsageException($"Say which lobby: lobbies {action} ID (a number; 'lobbies list' shows them).");
        CommandRunner.ExpectWords(context, 3);
        return id;
    }
}
