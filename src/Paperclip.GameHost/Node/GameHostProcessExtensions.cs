using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Paperclip.Backend;
using Paperclip.Backend.Endpoints;
using Paperclip.Backend.Operations;
using Paperclip.Backend.Security;

namespace Paperclip.GameHost.Node;

/// <summary>
/// A <c>Mode=GameHost</c> process: lobby servers, the node of the Redis registry, a certificate
/// from an API node, the Agones adapter when configured, health and metrics. Nothing of the API:
/// no REST routes, no server or token key (none is loaded or generated), no migrations.
/// </summary>
public static class GameHostProcessExtensions
{
    /// <summary>Registers what a game host runs; the games come from <see cref="PaperclipBackendExtensions.AddPaperclipGame{TGame}"/>.</summary>
    public static WebApplicationBuilder AddGameHostProcess(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddPaperclipOptions(builder.Configuration);
        // The accounts' public keys are all a game host reads of the API's data: it reads them from
        // the cluster's database and leaves its schema to the API nodes, which migrate it.
        services.AddPaperclipDatabase();
        services.TryAddSingleton<IAccountKeyDirectory, DatabaseAccountKeyDirectory>();
        builder.AddPaperclipGameHost();
        builder.AddClusterHostCertificate();
        services.AddGameHostNode(builder.Configuration);
        // The lobby servers listen where the node tells the registry they are reached.
        services.AddOptions<PaperclipOptions>().PostConfigure<IOptions<GameHostNodeOptions>>((options, node) =>
        {
            options.Lobbies.PublicHost = node.Value.PublicHost;
            options.Lobbies.PortRange = node.Value.PortRange;
        });
        services.AddPaperclipMetrics();
        services.AddProblemDetails();
        return builder;
    }

    /// <summary>Maps <c>/health</c>, <c>/health/live</c>, <c>/health/ready</c> and <c>/metrics</c>; anything else is 404 problem+json.</summary>
    public static WebApplication MapGameHostProcess(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapHealthEndpoints();
        app.MapPaperclipProbes();
        return app;
    }
}
