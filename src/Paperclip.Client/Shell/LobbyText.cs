using System.Globalization;
using Paperclip.Client.Api;

namespace Paperclip.Client.Shell;

/// <summary>How lobbies, their members and scores read, in commands and menus alike.</summary>
internal static class LobbyText
{
    /// <summary>One line for a lobby: <c>3  RPS  1/2 players</c>.</summary>
    public static string Describe(LobbyListing lobby) =>
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

    /// <summary><c>Final score: you 2, opponent 1. You won.</c></summary>
    public static string FinalScore(int mine, int theirs) =>
        string.Create(CultureInfo.InvariantCulture, $"Final score: you {mine}, opponent {theirs}. {(mine > theirs ? "You won." : mine < theirs ? "You lost." : "A tie.")}");
}
