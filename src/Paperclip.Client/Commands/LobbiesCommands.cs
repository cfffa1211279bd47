using System.ComponentModel;
using System.Globalization;
using Paperclip.Client.Shell;
using Spectre.Console.Cli;

namespace Paperclip.Client.Commands;

/// <summary><c>lobbies list</c>: every lobby with its game and players.</summary>
internal sealed class LobbiesListCommand(CliConsole console) : CliCommand<LobbiesListCommand.Settings>(console)
{
    public sealed class Settings : ConnectionSettings;

    protected override async Task<int> RunAsync(CliContext context, Settings settings)
    {
        using var api = await context.LoginAsync().ConfigureAwait(false);
        var lobbies = await api.GetLobbiesAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (var lobby in lobbies)
            context.Out.WriteLine(LobbyText.Describe(lobby));
        if (lobbies.Count == 0)
            context.Error.WriteLine("No lobbies: create one with 'lobbies create --game RPS' or play with 'play --game RPS'.");
        return PaperclipCli.Ok;
    }
}

/// <summary><c>lobbies members</c>: who is in each lobby.</summary>
internal sealed class LobbiesMembersCommand(CliConsole console) : CliCommand<LobbiesMembersCommand.Settings>(console)
{
    public sealed class Settings : ConnectionSettings;

    protected override async Task<int> RunAsync(CliContext context, Settings settings)
    {
        using var api = await context.LoginAsync().ConfigureAwait(false);
        var members = await api.GetLobbyMembersAsync(context.CancellationToken).ConfigureAwait(false);
        var names = await LobbyText.KnownNamesAsync(api, context.CancellationToken).ConfigureAwait(false);
        foreach (var (lobbyId, accounts) in members.OrderBy(m => m.Key))
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{lobbyId}: {LobbyText.MemberList(accounts, names)}"));
        if (members.Count == 0)
            context.Error.WriteLine("No lobbies.");
        return PaperclipCli.Ok;
    }
}

/// <summary><c>lobbies friends</c>: your friends' lobbies that have space.</summary>
internal sealed class LobbiesFriendsCommand(CliConsole console) : CliCommand<LobbiesFriendsCommand.Settings>(console)
{
    public sealed class Settings : ConnectionSettings;

    protected override async Task<int> RunAsync(CliContext context, Settings settings)
    {
        using var api = await context.LoginAsync().ConfigureAwait(false);
        var friends = await api.GetFriendsLobbiesAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (var friend in friends)
        {
            foreach (var lobby in friend.Lobbies)
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{friend.Account.Username}  lobby {lobby.LobbyId}  {lobby.GameName}"));
        }
        if (friends.Count == 0)
            context.Error.WriteLine("None of your friends is in a lobby with space.");
        return PaperclipCli.Ok;
    }
}

/// <summary><c>lobbies show ID</c>: one lobby's address and players.</summary>
internal sealed class LobbiesShowCommand(CliConsole console) : CliCommand<LobbiesShowCommand.Settings>(console)
{
    public sealed class Settings : ConnectionSettings
    {
        [CommandArgument(0, "<ID>")]
        [Description("The lobby's id ('lobbies list' shows them)")]
        public long LobbyId { get; init; }
    }

    protected override async Task<int> RunAsync(CliContext context, Settings settings)
    {
        using var api = await context.LoginAsync().ConfigureAwait(false);
        var lobby = await api.GetLobbyAsync(settings.LobbyId, context.CancellationToken).ConfigureAwait(false);
        var summary = (await api.GetLobbiesAsync(context.CancellationToken).ConfigureAwait(false)).FirstOrDefault(l => l.LobbyId == lobby.LobbyId);
        context.Out.WriteLine(summary is null
            ? string.Create(CultureInfo.InvariantCulture, $"Lobby {lobby.LobbyId}: game {lobby.GameId} at {LobbyText.Address(lobby)}")
            : string.Create(CultureInfo.InvariantCulture,
                $"Lobby {lobby.LobbyId}: {summary.GameName} at {LobbyText.Address(lobby)}, {summary.Members}/{summary.Size} players{(summary.IsFull ? ", full" : "")}"));
        return PaperclipCli.Ok;
    }
}

/// <summary><c>lobbies create [--game GAME]</c>: a new lobby, with a place kept for you.</summary>
internal sealed class LobbiesCreateCommand(CliConsole console) : CliCommand<LobbiesCreateCommand.Settings>(console)
{
    public sealed class Settings : ConnectionSettings
    {
        [CommandOption("--game <GAME>")]
        [Description("The game's name or id (default: the server's only game)")]
        public string? Game { get; init; }
    }

    protected override async Task<int> RunAsync(CliContext context, Settings settings)
    {
        using var api = await context.LoginAsync().ConfigureAwait(false);
        var game = await GameChoice.ResolveAsync(api, settings.Game, context.CancellationToken).ConfigureAwait(false);
        var lobby = await api.CreateLobbyAsync(game, context.CancellationToken).ConfigureAwait(false);
        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Created lobby {lobby.LobbyId} ({game}) at {LobbyText.Address(lobby)}."));
        return PaperclipCli.Ok;
    }
}

/// <summary><c>lobbies matchmake [--game GAME]</c>: a lobby with space, or a new one; a place is kept for you.</summary>
internal sealed class LobbiesMatchmakeCommand(CliConsole console) : CliCommand<LobbiesMatchmakeCommand.Settings>(console)
{
    public sealed class Settings : ConnectionSettings
    {
        [CommandOption("--game <GAME>")]
        [Description("The game's name or id (default: the server's only game)")]
        public string? Game { get; init; }
    }

    protected override async Task<int> RunAsync(CliContext context, Settings settings)
    {
        using var api = await context.LoginAsync().ConfigureAwait(false);
        var game = await GameChoice.ResolveAsync(api, settings.Game, context.CancellationToken).ConfigureAwait(false);
        var lobby = await api.MatchmakeAsync(game, context.CancellationToken).ConfigureAwait(false);
        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{(lobby.Created ? "Created" : "Found")} lobby {lobby.LobbyId} ({game}) at {LobbyText.Address(lobby)}; a place is kept for you."));
        return PaperclipCli.Ok;
    }
}

/// <summary><c>lobbies join ID [--choices C]</c>: joins a lobby and plays.</summary>
internal sealed class LobbiesJoinCommand(CliConsole console) : CliCommand<LobbiesJoinCommand.Settings>(console)
{
    public sealed class Settings : MatchSettings
    {
        [CommandArgument(0, "<ID>")]
        [Description("The lobby's id ('lobbies list' shows them)")]
        public long LobbyId { get; init; }
    }

    protected override Task<int> RunAsync(CliContext context, Settings settings) =>
        PlayCommand.JoinAndPlayAsync(context, settings, api => api.GetLobbyAsync(settings.LobbyId, context.CancellationToken));
}
