using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Paperclip.Backend.Data;
using Paperclip.Backend.OpenApi;

namespace Paperclip.Backend.Endpoints;

/// <summary><c>/health</c>: 200 when the database answers, else 503 problem+json.</summary>
public static class HealthEndpoints
{
    /// <summary>Maps <c>/health</c>.</summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/health", CheckAsync)
            .WithTags("Operations")
            .WithName("CheckHealth")
            .WithSummary("Whether the server and its database answer.")
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .WithResponseDescription(StatusCodes.Status200OK, "The database answers: the text \"Healthy\".")
            .WithProblem(StatusCodes.Status503ServiceUnavailable, "The database does not answer.");
        return routes;
    }

    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> CheckAsync(HealthCheckService health, HttpContext context)
    {
        var report = await health.CheckHealthAsync(r => r.Name == DatabaseHealthCheck.Name, context.RequestAborted).ConfigureAwait(false);
        context.Response.Headers.CacheControl = "no-store";
        return report.Status == HealthStatus.Healthy
            ? TypedResults.Text("Healthy")
            : TypedResults.Problem("The database does not answer.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service Unavailable");
    }
}

/// <summary>Healthy when the database answers.</summary>
public sealed class DatabaseHealthCheck(PaperclipDbContext db) : IHealthCheck
{
    /// <summary>The check's registered name.</summary>
    public const string Name = "database";

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await db.Database.CanConnectAsync(cancellationToken).ConfigureAwait(false)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("The database does not answer.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("The database does not answer.", ex);
        }
    }
}
