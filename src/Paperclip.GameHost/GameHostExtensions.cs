using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Paperclip.Backend.Lobbies;
using Paperclip.Backend.Operations;
using Paperclip.Games;
using Paperclip.Games.RockPaperScissors;

namespace Paperclip.GameHost;

/// <summary>Wires real game servers into the backend's lobbies.</summary>
public static class GameHostExtensions
{
    /// <summary>
    /// Runs every lobby as a Paperclip game server in this process, with the built-in games
    /// (rock-paper-scissors). Add more games with <c>services.AddSingleton&lt;IGame, MyGame&gt;()</c>
    /// and a row in the games catalogue.
    /// </summary>
    public static WebApplicationBuilder AddPaperclipGameHost(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IGame, RockPaperScissorsGame>());
        services.TryAddSingleton<DatabaseCertificateValidator>();
        services.TryAddSingleton<HostCertificate>();
        services.TryAddSingleton<LobbyGameServerHost>();
        services.Replace(ServiceDescriptor.Singleton<ILobbyServerHost>(sp => sp.GetRequiredService<LobbyGameServerHost>()));
        services.AddHostedService(sp => sp.GetRequiredService<LobbyGameServerHost>());
        services.TryAddSingleton<ILobbyConsole>(sp => sp.GetRequiredService<LobbyGameServerHost>());
        services.AddHealthChecks().AddCheck<GameHostingHealthCheck>("game-hosting", tags: [OperationsExtensions.ReadyTag]);
        return builder;
    }
}
