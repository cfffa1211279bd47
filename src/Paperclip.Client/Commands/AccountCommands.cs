using System.Globalization;
using Paperclip.Client.Shell;

namespace Paperclip.Client.Commands;

/// <summary><c>register</c>: creates the account of the user and password.</summary>
internal sealed class RegisterCommand(CliConsole console) : CliCommand<RegisterCommand.Settings>(console)
{
    public sealed class Settings : ConnectionSettings;

    protected override async Task<int> RunAsync(CliContext context, Settings settings)
    {
        var (user, password) = context.RequireCredentials();
        using var api = context.CreateApi();
        var account = await api.RegisterAsync(user, password, context.CancellationToken).ConfigureAwait(false);
        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Registered {account.Username} (account {account.AccountId})."));
        return PaperclipCli.Ok;
    }
}

/// <summary><c>login</c>: checks the credentials and prints a session token (for <c>Authorization: Bearer</c>).</summary>
internal sealed class LoginCommand(CliConsole console) : CliCommand<LoginCommand.Settings>(console)
{
    public sealed class Settings : ConnectionSettings;

    protected override async Task<int> RunAsync(CliContext context, Settings settings)
    {
        using var api = await context.LoginAsync().ConfigureAwait(false);
        context.Out.WriteLine(api.Token);
        return PaperclipCli.Ok;
    }
}

/// <summary><c>games</c>: the catalogue.</summary>
internal sealed class GamesCommand(CliConsole console) : CliCommand<GamesCommand.Settings>(console)
{
    public sealed class Settings : ConnectionSettings;

    protected override async Task<int> RunAsync(CliContext context, Settings settings)
    {
        using var api = await context.LoginAsync().ConfigureAwait(false);
        foreach (var game in await api.GetGamesAsync(context.CancellationToken).ConfigureAwait(false))
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{game.Id}  {game.Name}"));
        return PaperclipCli.Ok;
    }
}
