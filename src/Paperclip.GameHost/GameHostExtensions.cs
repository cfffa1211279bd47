using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Paperclip.Backend;
using Paperclip.Backend.Lobbies;
using Paperclip.Backend.Operations;
using Paperclip.Backend.Security;
using Paperclip.GameHost.Agones;

namespace Paperclip.GameHost;

/// <summary>Wires real game servers into the backend's lobbies.</summary>
public static class GameHostExtensions
{
    /// <summary>
    /// Runs every lobby as a Paperclip game server in this process, for the games registered
    /// with <see cref="PaperclipBackendExtensions.AddPaperclipGame{TGame}"/>.
    /// </summary>
    public static WebApplicationBuilder AddPaperclipGameHost(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.TryAddSingleton<AccountCertificateValidator>();
        services.TryAddSingleton<HostCertificate>();
        services.TryAddSingleton<LobbyGameServerHost>();
        services.Replace(ServiceDescriptor.Singleton<ILobbyServerHost>(sp => sp.GetRequiredService<LobbyGameServerHost>()));
        services.AddHostedService(sp => sp.GetRequiredService<LobbyGameServerHost>());
        services.TryAddSingleton<ILobbyConsole>(sp => sp.GetRequiredService<LobbyGameServerHost>());
        services.AddAgonesWhenConfigured(builder.Configuration);
        services.AddHealthChecks().AddCheck<GameHostingHealthCheck>("game-hosting", tags: [OperationsExtensions.ReadyTag]);
        return builder;
    }

    /// <summary>
    /// For a <c>Mode=GameHost</c> process: the host's certificate comes from an API node
    /// (<c>Paperclip:Cluster:ApiUrl</c>, with the host secret), as only API nodes hold the server key.
    /// </summary>
    public static WebApplicationBuilder AddClusterHostCertificate(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddHttpClient<HttpHostCertificateIssuer>(http => http.Timeout = TimeSpan.FromSeconds(10));
        builder.Services.Replace(ServiceDescriptor.Singleton<IHostCertificateIssuer>(sp => sp.GetRequiredService<HttpHostCertificateIssuer>()));
        return builder;
    }
}
