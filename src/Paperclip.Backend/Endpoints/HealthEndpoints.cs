using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Paperclip.Backend.Data;

namespace Paperclip.Backend.Endpoints;

/// <summary><c>/health</c>: 200 when the database answers, else 503 problem+json.</summary>
public static class HealthEndpoints
{
    /// <summary>Maps <c>/health</c>.</summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapHealthChecks("/health", new HealthCheckOptions
        {
            ResponseWriter = static async (context, report) =>
            {
                if (report.Status == HealthStatus.Healthy)
                {
                    context.Response.ContentType = "text/plain";
                    await context.Response.WriteAsync("Healthy").ConfigureAwait(false);
                    return;
                }

                var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
                await problems.WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context,
                    ProblemDetails = { Status = context.Response.StatusCode, Title = "Service Unavailable", Detail = "The database does not answer." },
                }).ConfigureAwait(false);
            },
        }).WithTags("Operations");
        return routes;
    }
}

/// <summary>Healthy when the database answers.</summary>
public sealed class DatabaseHealthCheck(PaperclipDbContext db) : IHealthCheck
{
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
