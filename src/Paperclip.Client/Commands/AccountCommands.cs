using System.Globalization;

namespace Paperclip.Client.Commands;

/// <summary><c>register</c> and <c>login</c>.</summary>
internal static class AccountCommands
{
    /// <summary><c>register</c>: creates the account given by <c>--user</c>/<c>--password</c>.</summary>
    public static async Task<int> RegisterAsync(CliContext context)
    {
        CommandRunner.ExpectWords(context, 1);
        var (user, password) = context.RequireCredentials();
        using var api = context.CreateApi();
        var account = await api.RegisterAsync(user, password, context.CancellationToken).ConfigureAwait(false);
        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Registered {account.Username} (account {account.AccountId})."));
        return 0;
    }

    /// <summary><c>login</c>: checks the credentials and prints a session token (for <c>Authorization: Bearer</c>).</summary>
    public static async Task<int> LoginAsync(CliContext context)
    {
        CommandRunner.ExpectWords(context, 1);
        using var api = await context.LoginAsync().ConfigureAwait(false);
        context.Out.WriteLine(api.Token);
        return 0;
    }
}
