using System.ComponentModel;
using Paperclip.Client.Shell;
using Spectre.Console.Cli;

namespace Paperclip.Client.Commands;

/// <summary><c>friends list</c>: your friends, one per line.</summary>
internal sealed class FriendsListCommand(CliConsole console) : CliCommand<FriendsListCommand.Settings>(console)
{
    public sealed class Settings : ConnectionSettings;

    protected override async Task<int> RunAsync(CliContext context, Settings settings)
    {
        using var api = await context.LoginAsync().ConfigureAwait(false);
        var friends = await api.GetFriendsAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (var friend in friends.OrderBy(f => f.Username, StringComparer.OrdinalIgnoreCase))
            context.Out.WriteLine(friend.Username);
        if (friends.Count == 0)
            context.Error.WriteLine("No friends yet: add one with 'friends add NAME'.");
        return PaperclipCli.Ok;
    }
}

/// <summary><c>friends add NAME</c>.</summary>
internal sealed class FriendsAddCommand(CliConsole console) : CliCommand<FriendsAddCommand.Settings>(console)
{
    public sealed class Settings : ConnectionSettings
    {
        [CommandArgument(0, "<NAME>")]
        [Description("The username of the new friend")]
        public string Name { get; init; } = "";
    }

    protected override async Task<int> RunAsync(CliContext context, Settings settings)
    {
        using var api = await context.LoginAsync().ConfigureAwait(false);
        var friend = await api.AddFriendAsync(settings.Name, context.CancellationToken).ConfigureAwait(false);
        context.Out.WriteLine($"{friend.Username} is now your friend.");
        return PaperclipCli.Ok;
    }
}

/// <summary><c>friends remove NAME</c>.</summary>
internal sealed class FriendsRemoveCommand(CliConsole console) : CliCommand<FriendsRemoveCommand.Settings>(console)
{
    public sealed class Settings : ConnectionSettings
    {
        [CommandArgument(0, "<NAME>")]
        [Description("The username of the friend to remove")]
        public string Name { get; init; } = "";
    }

    protected override async Task<int> RunAsync(CliContext context, Settings settings)
    {
        using var api = await context.LoginAsync().ConfigureAwait(false);
        await api.RemoveFriendAsync(settings.Name, context.CancellationToken).ConfigureAwait(false);
        context.Out.WriteLine($"{settings.Name} is no longer your friend.");
        return PaperclipCli.Ok;
    }
}
