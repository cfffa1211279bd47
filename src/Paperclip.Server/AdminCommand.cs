using Paperclip.Backend.Data;
using Paperclip.Backend.Operations;

namespace Paperclip.Server;

/// <summary>
/// <c>Paperclip.Server admin grant|revoke USERNAME</c> and <c>admin list</c>: the console's admin
/// role in the database the server's configuration names (the same settings, .env and arguments).
/// </summary>
public static class AdminCommand
{
    /// <summary>The usage line.</summary>
    public const string Usage = "usage: Paperclip.Server admin grant USERNAME | admin revoke USERNAME | admin list  [configuration arguments…]";

    /// <summary>Runs the command; returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var (verb, username, rest) = args switch
        {
            ["grant" or "revoke", var name, .. var more] when !name.StartsWith('-') => (args[0], name, more),
            ["list", .. var more] => ("list", null, more),
            _ => (null, null, args),
        };
        if (verb is null)
        {
            await error.WriteLineAsync(Usage).ConfigureAwait(false);
            return 2;
        }

        await using var app = ServerApplication.Build(rest);
        await using var scope = app.Services.CreateAsyncScope();
        if (scope.ServiceProvider.GetService<AdminAccess>() is not { } access)
        {
            // A game host holds no accounts of its own: the admin role lives with the API's data.
            await error.WriteLineAsync("The admin commands run with an API node's settings (Paperclip:Mode Embedded or Api), not Mode=GameHost.").ConfigureAwait(false);
            return 2;
        }
        // The database is created or migrated as at a server start; nothing else starts.
        foreach (var initializer in app.Services.GetServices<IHostedService>().OfType<DatabaseInitializer>())
            await initializer.StartAsync(CancellationToken.None).ConfigureAwait(false);
        if (verb == "list")
        {
            foreach (var name in await access.ListGrantedAsync(CancellationToken.None).ConfigureAwait(false))
                await output.WriteLineAsync(name).ConfigureAwait(false);
            return 0;
        }
        if (!await access.SetAdminAsync(username!, verb == "grant", CancellationToken.None).ConfigureAwait(false))
        {
            await error.WriteLineAsync($"There is no account {username}.").ConfigureAwait(false);
            return 1;
        }
        await output.WriteLineAsync(verb == "grant" ? $"{username} is an admin." : $"{username} is no longer an admin.").ConfigureAwait(false);
        return 0;
    }
}
