namespace Paperclip.Client.Commands;

/// <summary><c>friends list|add NAME|remove NAME</c>.</summary>
internal static class FriendsCommands
{
    public static async Task<int> RunAsync(CliContext context)
    {
        var action = context.CommandLine.Word(1) ?? "list";
        switch (action.ToLowerInvariant())
        {
            case "list":
            {
                CommandRunner.ExpectWords(context, 2);
                using var api = await context.LoginAsync().ConfigureAwait(false);
                var friends = await api.GetFriendsAsync(context.CancellationToken).ConfigureAwait(false);
                foreach (var friend in friends.OrderBy(f => f.Username, StringComparer.OrdinalIgnoreCase))
                    context.Out.WriteLine(friend.Username);
                if (friends.Count == 0)
                    context.Error.WriteLine("No friends yet: add one with 'friends add NAME'.");
                return 0;
            }
            case "add":
            {
                var name = RequireName(context, action);
                using var api = await context.LoginAsync().ConfigureAwait(false);
                var friend = await api.AddFriendAsync(name, context.CancellationToken).ConfigureAwait(false);
                context.Out.WriteLine($"{friend.Username} is now your friend.");
                return 0;
            }
            case "remove":
            {
                var name = RequireName(context, action);
                using var api = await context.LoginAsync().ConfigureAwait(false);
                await api.RemoveFriendAsync(name, context.CancellationToken).ConfigureAwait(false);
                context.Out.WriteLine($"{name} is no longer your friend.");
                return 0;
            }
            default:
                throw new UsageException($"Unknown friends command '{action}': use friends list, friends add NAME or friends remove NAME.");
        }
    }

    private static string RequireName(CliContext context, string action)
    {
        var name = context.CommandLine.Word(2);
        if (string.IsNullOrWhiteSpace(name))
            throw new UsageException($"Say whom: friends {action.ToLowerInvariant()} NAME.");
        CommandRunner.ExpectWords(context, 3);
        return name;
    }
}
