using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Paperclip.Backend.Data;
using Paperclip.Backend.OpenApi;

namespace Paperclip.Backend.Endpoints;

/// <summary>The games catalogue: <c>/games/</c>.</summary>
public static class GamesEndpoints
{
    /// <summary>Maps the games endpoints.</summary>
    public static IEndpointRouteBuilder MapGamesEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/games").WithTags("Games").RequireAccount()
            .MapGet("/", ListAsync)
            .WithName("ListGames")
            .WithSummary("The games catalogue.")
            .WithResponseDescription(StatusCodes.Status200OK, "Each game's name by its id: {\"<game-id>\": \"<name>\"}.");
        return routes;
    }

    private static async Task<Ok<Dictionary<string, string>>> ListAsync(PaperclipDbContext db, CancellationToken cancellationToken)
    {
        var games = await db.Games.AsNoTracking().OrderBy(g => g.Id).Select(g => new { g.Id, g.Name })
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(games.ToDictionary(g => g.Id.ToString(CultureInfo.InvariantCulture), g => g.Name, StringComparer.Ordinal));
    }
}
