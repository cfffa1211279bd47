using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Paperclip.Backend.Data;
using Paperclip.Backend.Http;
using Paperclip.Backend.OpenApi;
using Paperclip.Backend.Security;
using Paperclip.Contracts;

namespace Paperclip.Backend.Endpoints;

/// <summary>Friends: <c>/friends/</c>, <c>/friends/add</c>, <c>/friend/remove</c> and their aliases.</summary>
public static class FriendsEndpoints
{
    // Compiled queries cache their executor per model: one per context type (provider).
    private static readonly PerProvider<Func<PaperclipDbContext, long, IAsyncEnumerable<UserSummary>>> FriendsQuery = new(() =>
        EF.CompileAsyncQuery((PaperclipDbContext db, long me) =>
            db.Accounts
                .Where(a => db.Friendships.Where(f => f.LowerId == me).Select(f => f.HigherId)
                    .Concat(db.Friendships.Where(f => f.HigherId == me).Select(f => f.LowerId))
                    .Contains(a.Id))
                .OrderBy(a => a.Id)
                .Select(a => new UserSummary(a.Id, a.Username))));

    private static readonly PerProvider<Func<PaperclipDbContext, string, Task<UserSummary?>>> FindByNameQuery = new(() =>
        EF.CompileAsyncQuery((PaperclipDbContext db, string normalized) =>
            db.Accounts.Where(a => a.NormalizedUsername == normalized).Select(a => new UserSummary(a.Id, a.Username)).FirstOrDefault()));

    /// <summary>Maps the friends endpoints.</summary>
    public static IEndpointRouteBuilder MapFriendsEndpoints(this IEndpointRouteBuilder routes)
    {
        var friends = routes.MapGroup("/friends").WithTags("Friends").RequireAccount();
        friends.MapGet("/", ListAsync)
            .WithName("ListFriends")
            .WithSummary("The caller's friends.");
        friends.MapPost("/add", AddAsync)
            .WithName("AddFriend")
            .WithSummary("Adds a friend (symmetric).")
            .Accepts<UsernameRequest>("application/json")
            .WithResponseDescription(StatusCodes.Status201Created, "The caller and the new friend.")
            .WithBodyProblems("The username is missing, or it is the caller's own.")
            .WithProblem(StatusCodes.Status404NotFound, "There is no user of that name.")
            .WithProblem(StatusCodes.Status409Conflict, "Already friends.");
        MapRemove(friends).WithName("RemoveFriendAlias").WithSummary("Removes a friend (alias of DELETE /friend/remove).");
        MapRemove(routes.MapGroup("/friend").WithTags("Friends").RequireAccount()).WithName("RemoveFriend").WithSummary("Removes a friend.");
        return routes;
    }

    private static RouteHandlerBuilder MapRemove(RouteGroupBuilder group) =>
        group.MapDelete("/remove", RemoveAsync)
            .Accepts<UsernameRequest>("application/json")
            .WithResponseDescription(StatusCodes.Status204NoContent, "The friendship is removed.")
            .WithBodyProblems("The username is missing.")
            .WithProblem(StatusCodes.Status404NotFound, "There is no user of that name, or the caller and that user are not friends.");

    /// <summary>The friends of an account, by id.</summary>
    internal static async Task<List<UserSummary>> ListFriendsAsync(PaperclipDbContext db, long accountId, CancellationToken cancellationToken)
    {
        var list = new List<UserSummary>();
        await foreach (var friend in FriendsQuery.For(db)(db, accountId).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            list.Add(friend);
        }

        return list;
    }

    private static async Task<Ok<FriendsResponse>> ListAsync(ClaimsPrincipal user, PaperclipDbContext db, CancellationToken cancellationToken) =>
        TypedResults.Ok(new FriendsResponse(await ListFriendsAsync(db, user.GetAccountId(), cancellationToken).ConfigureAwait(false)));

    private static async Task<Results<Created<FriendAddedResponse>, ProblemHttpResult>> AddAsync(
        Input<UsernameRequest> input, ClaimsPrincipal user, PaperclipDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var username = input.Value.Username;
        var me = new UserSummary(user.GetAccountId(), user.GetUsername());
        var normalized = AccountService.Normalize(username);
        if (normalized == AccountService.Normalize(me.Username))
        {
            return Problems.BadRequest("You cannot befriend yourself.");
        }

        var other = AccountService.IsValidUsername(username) ? await FindByNameQuery.For(db)(db, normalized).ConfigureAwait(false) : null;
        if (other is null)
        {
            return Problems.NotFound($"There is no user '{username}'.");
        }

        var (lower, higher) = Friendship.Order(me.Id, other.Id);
        if (lower == higher)
        {
            return Problems.BadRequest("You cannot befriend yourself.");
        }

        if (await db.Friendships.AnyAsync(f => f.LowerId == lower && f.HigherId == higher, cancellationToken).ConfigureAwait(false))
        {
            return Problems.Conflict($"You and '{other.Username}' are already friends.");
        }

        var friendship = new Friendship { LowerId = lower, HigherId = higher, CreatedAt = time.GetUtcNow() };
        db.Friendships.Add(friendship);
        try
        {
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            return Problems.Conflict($"You and '{other.Username}' are already friends.");
        }
        finally
        {
            db.Entry(friendship).State = EntityState.Detached;
        }

        return TypedResults.Created((string?)null, new FriendAddedResponse(me, other));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveAsync(
        Input<UsernameRequest> input, ClaimsPrincipal user, PaperclipDbContext db, CancellationToken cancellationToken)
    {
        var username = input.Value.Username;
        var other = AccountService.IsValidUsername(username)
            ? await FindByNameQuery.For(db)(db, AccountService.Normalize(username)).ConfigureAwait(false)
            : null;
        if (other is null)
        {
            return Problems.NotFound($"There is no user '{username}'.");
        }

        var (lower, higher) = Friendship.Order(user.GetAccountId(), other.Id);
        var removed = await db.Friendships.Where(f => f.LowerId == lower && f.HigherId == higher)
            .ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
        return removed == 0
            ? Problems.NotFound($"You and '{other.Username}' are not friends.")
            : TypedResults.NoContent();
    }
}
