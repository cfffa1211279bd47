using System.Globalization;
using Paperclip.Client.Api;
using Paperclip.Client.Shell;

namespace Paperclip.Client.Interactive;

/// <summary>
/// Interactive mode: log in or register, then menus for friends, games and lobbies, and
/// games of rock-paper-scissors. Errors are shown and the menu comes back; the session ends
/// with Quit or at the end of the input.
/// </summary>
internal sealed class InteractiveSession(IConsoleUi ui, CliContext context)
{
    private const string Back = "Back";
    private CancellationToken Token => context.CancellationToken;

    public async Task<int> RunAsync()
    {
        ui.Title("Paperclip");
        ui.Info($"Server: {context.ServerText}");
        var session = await LogInAsync().ConfigureAwait(false);
        if (session is null)
        {
            ui.Info("Bye.");
            return 0;
        }
        using var api = session.Value.Api;
        var password = session.Value.Password;
        ui.Success($"Logged in as {api.Username}.");
        while (true)
        {
            var choice = ui.Choose("Main menu", ["Friends", "Games", "Lobbies", "Play RPS (matchmaking)", "Quit"]);
            try
            {
                switch (choice)
                {
                    case "Friends":
                        await FriendsMenuAsync(api).ConfigureAwait(false);
                        break;
                    case "Games":
                        await ShowGamesAsync(api).ConfigureAwait(false);
                        break;
                    case "Lobbies":
                        await LobbiesMenuAsync(api, password).ConfigureAwait(false);
                        break;
                    case "Play RPS (matchmaking)":
                        await PlayAsync(api, password, () => api.MatchmakeAsync(Games.RockPaperScissors.RockPaperScissorsGame.Descriptor.Name, Token)).ConfigureAwait(false);
                        break;
                    default:
                        ui.Info("Bye.");
                        return 0;
                }
            }
            catch (EndOfInputException)
            {
                ui.Info("Bye.");
                return 0;
            }
        }
    }

    // ------------------------------------------------------------------ account

    private async Task<(PaperclipApi Api, string Password)?> LogInAsync()
    {
        // Credentials given on the command line or in the environment: log in straight away.
        if (!string.IsNullOrEmpty(context.User))
        {
            var password = context.Password ?? ui.AskSecret($"Password for {context.User}");
            if (password is null)
                return null;
            var api = await TryLoginAsync(context.User, password).ConfigureAwait(false);
            if (api is not null)
                return (api, password);
        }

        while (true)
        {
            var choice = ui.Choose("Welcome", ["Log in", "Register", "Quit"]);
            if (choice is null or "Quit")
                return null;
            var user = ui.Ask("Username")?.Trim();
            if (user is null)
                return null;
            if (user.Length == 0)
                continue;
            var password = ui.AskSecret("Password");
            if (password is null)
                return null;
            if (choice == "Register")
            {
                if (!await TryRegisterAsync(user, password).ConfigureAwait(false))
                    continue;
            }
            var api = await TryLoginAsync(user, password).ConfigureAwait(false);
            if (api is not null)
                return (api, password);
        }
    }

    private async Task<bool> TryRegisterAsync(string user, string password)
    {
        using var api = context.CreateApi();
        try
        {
            var account = await api.RegisterAsync(user, password, Token).ConfigureAwait(false);
            ui.Success(string.Create(CultureInfo.InvariantCulture, $"Registered {account.Username} (account {account.AccountId})."));
            return true;
        }
        catch (Exception e) when (GameScreen.IsExpected(e))
        {
            ui.Error(ErrorMessages.Describe(e));
            return false;
        }
    }

    private async Task<PaperclipApi?> TryLoginAsync(string user, string password)
    {
        var api = context.CreateApi();
        try
        {
            await api.LoginAsync(user, password, Token).ConfigureAwait(false);
            return api;
        }
        catch (Exception e) when (GameScreen.IsExpected(e))
        {
            api.Dispose();
            ui.Error(ErrorMessages.Describe(e));
            return null;
        }
    }

    // ------------------------------------------------------------------ friends and games

    private async Task FriendsMenuAsync(PaperclipApi api)
    {
        while (true)
        {
            var choice = ui.Choose("Friends", ["List friends", "Add a friend", "Remove a friend", Back]) ?? throw new EndOfInputException();
            if (choice == Back)
                return;
            await ShowingErrorsAsync(async () =>
            {
                switch (choice)
                {
                    case "List friends":
                        var friends = await api.GetFriendsAsync(Token).ConfigureAwait(false);
                        ui.Table(["Friend"], [.. friends.OrderBy(f => f.Username, StringComparer.OrdinalIgnoreCase).Select(f => (IReadOnlyList<string>)[f.Username])],
                            "No friends yet.");
                        break;
                    case "Add a friend":
                        var add = AskRequired("Username of the new friend");
                        var friend = await api.AddFriendAsync(add, Token).ConfigureAwait(false);
                        ui.Success($"{friend.Username} is now your friend.");
                        break;
                    default:
                        var remove = AskRequired("Username of the friend to remove");
                        await api.RemoveFriendAsync(remove, Token).ConfigureAwait(false);
                        ui.Success($"{remove} is no longer your friend.");
                        break;
                }
            }).ConfigureAwait(false);
        }
    }

    private Task ShowGamesAsync(PaperclipApi api) => ShowingErrorsAsync(async () =>
    {
        var games = await api.GetGamesAsync(Token).ConfigureAwait(false);
        ui.Table(["Id", "Game"], [.. games.Select(g => (IReadOnlyList<string>)[g.Id.ToString(CultureInfo.InvariantCulture), g.Name])], "No games.");
    });

    // ------------------------------------------------------------------ lobbies

    private async Task LobbiesMenuAsync(PaperclipApi api, string password)
    {
        while (true)
        {
            var choice = ui.Choose("Lobbies",
                ["List lobbies", "Members", "Friends' lobbies", "Create a lobby", "Join a lobby by id", "Matchmaking", Back]) ?? throw new EndOfInputException();
            switch (choice)
            {
                case Back:
                    return;
                case "List lobbies":
                    await ShowingErrorsAsync(async () =>
                    {
                        var lobbies = await api.GetLobbiesAsync(Token).ConfigureAwait(false);
                        ui.Table(["Lobby", "Game", "Players", ""],
                            [.. lobbies.Select(l => (IReadOnlyList<string>)[l.LobbyId.ToString(CultureInfo.InvariantCulture), l.GameName,
                                string.Create(CultureInfo.InvariantCulture, $"{l.Members}/{l.Size}"), l.IsFull ? "full" : "open"])],
                            "No lobbies.");
                    }).ConfigureAwait(false);
                    break;
                case "Members":
                    await ShowingErrorsAsync(async () =>
                    {
                        var members = await api.GetLobbyMembersAsync(Token).ConfigureAwait(false);
                        var names = await LobbyText.KnownNamesAsync(api, Token).ConfigureAwait(false);
                        ui.Table(["Lobby", "Members"],
                            [.. members.OrderBy(m => m.Key).Select(m => (IReadOnlyList<string>)[m.Key.ToString(CultureInfo.InvariantCulture), LobbyText.MemberList(m.Value, names)])],
                            "No lobbies.");
                    }).ConfigureAwait(false);
                    break;
                case "Friends' lobbies":
                    await ShowingErrorsAsync(async () =>
                    {
                        var friends = await api.GetFriendsLobbiesAsync(Token).ConfigureAwait(false);
                        ui.Table(["Friend", "Lobby", "Game"],
                            [.. friends.SelectMany(f => f.Lobbies.Select(l => (IReadOnlyList<string>)[f.Account.Username, l.LobbyId.ToString(CultureInfo.InvariantCulture), l.GameName]))],
                            "None of your friends is in a lobby with space.");
                    }).ConfigureAwait(false);
                    break;
                case "Create a lobby":
                    await PlayAsync(api, password, async () =>
                    {
                        var lobby = await api.CreateLobbyAsync(Games.RockPaperScissors.RockPaperScissorsGame.Descriptor.Name, Token).ConfigureAwait(false);
                        ui.Success(string.Create(CultureInfo.InvariantCulture, $"Created lobby {lobby.LobbyId}; friends can join it by its id."));
                        return lobby;
                    }).ConfigureAwait(false);
                    break;
                case "Join a lobby by id":
                    var text = AskRequired("Lobby id");
                    if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                    {
                        ui.Error($"'{text}' is not a lobby id (a number).");
                        break;
                    }
                    await PlayAsync(api, password, () => api.GetLobbyAsync(id, Token)).ConfigureAwait(false);
                    break;
                default:
                    await PlayAsync(api, password, () => api.MatchmakeAsync(Games.RockPaperScissors.RockPaperScissorsGame.Descriptor.Name, Token)).ConfigureAwait(false);
                    break;
            }
        }
    }

    private async Task PlayAsync(PaperclipApi api, string password, Func<Task<LobbyInfo>> findLobby)
    {
        LobbyInfo? lobby = null;
        await ShowingErrorsAsync(async () => lobby = await findLobby().ConfigureAwait(false)).ConfigureAwait(false);
        if (lobby is null)
            return;
        if (lobby.GameId != Games.RockPaperScissors.RockPaperScissorsGame.Descriptor.Id)
        {
            ui.Error(string.Create(CultureInfo.InvariantCulture, $"Lobby {lobby.LobbyId} runs another game; this client plays rock-paper-scissors only."));
            return;
        }
        await GameScreen.RunAsync(ui, context, api, lobby, password).ConfigureAwait(false);
    }

    // ------------------------------------------------------------------ helpers

    private string AskRequired(string prompt)
    {
        while (true)
        {
            var answer = ui.Ask(prompt) ?? throw new EndOfInputException();
            if (answer.Trim().Length > 0)
                return answer.Trim();
        }
    }

    private async Task ShowingErrorsAsync(Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (EndOfInputException)
        {
            throw;
        }
        catch (OperationCanceledException) when (!Token.IsCancellationRequested)
        {
            ui.Info("Cancelled.");
        }
        catch (Exception e) when (GameScreen.IsExpected(e) && e is not OperationCanceledException)
        {
            ui.Error(ErrorMessages.Describe(e));
        }
    }

    private sealed class EndOfInputException : Exception;
}
