using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Metrics;

namespace Paperclip.Backend.Operations;

/// <summary>What an operator needs: metrics at <c>/metrics</c>, liveness and readiness, the console.</summary>
public static class OperationsExtensions
{
    /// <summary>The tag of the health checks <c>/health/ready</c> runs.</summary>
    public const string ReadyTag = "ready";

    // Paperclip's own meters, then the runtime's and ASP.NET Core's (built into .NET 10: no instrumentation package needed).
    private static readonly string[] Meters =
    [
        "Paperclip.Transport", BackendMetrics.MeterName, "Paperclip.GameHost",
        "System.Runtime", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Routing",
        "Microsoft.AspNetCore.Diagnostics", "Microsoft.AspNetCore.Authentication", "Microsoft.AspNetCore.Authorization",
    ];

    /// <summary>Registers the meters' export, the admin policy and the console's services.</summary>
    public static WebApplicationBuilder AddPaperclipOperations(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddPaperclipMetrics();
        services.AddSingleton<BackendMetrics>();
        services.AddSingleton<ConsoleMetrics>();
        services.AddScoped<AdminAccess>();
        services.AddScoped<Microsoft.AspNetCore.Authorization.IAuthorizationHandler, AdminAuthorizationHandler>();
        services.AddAuthorizationBuilder().AddPolicy(AdminAccess.PolicyName, policy => policy.RequireAuthenticatedUser().AddRequirements(new AdminRequirement()));
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, ConsoleJsonContext.Default));
        return builder;
    }

    /// <summary>The export of Paperclip's, the runtime's and ASP.NET Core's meters at <c>/metrics</c> (Prometheus).</summary>
    public static IServiceCollection AddPaperclipMetrics(this IServiceCollection services)
    {
        services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(Meters).AddPrometheusExporter());
        return services;
    }

    /// <summary>Maps <c>/metrics</c>, <c>/health/live</c> and <c>/health/ready</c>: what every Paperclip process serves.</summary>
    public static IEndpointRouteBuilder MapPaperclipProbes(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPrometheusScrapingEndpoint("/metrics");
        // Live: the process answers requests (no check runs). Ready: every check tagged ready passes.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResultStatusCodes = { [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable },
        });
        return app;
    }

    /// <summary>Maps <c>/metrics</c>, <c>/health/live</c>, <c>/health/ready</c> and the console.</summary>
    public static WebApplication MapPaperclipOperations(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // The instruments exist from the start, not from the first login.
        _ = app.Services.GetRequiredService<BackendMetrics>();
        _ = app.Services.GetRequiredService<ConsoleMetrics>();

        app.MapPaperclipProbes();
        app.MapConsoleEndpoints();
        return app;
    }
}
