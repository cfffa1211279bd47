using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.OpenApi;
using Paperclip.Backend.Data;
using Paperclip.Backend.Http;
using Paperclip.Backend.Lobbies;
using Paperclip.Backend.OpenApi;
using Paperclip.Backend.Operations;
using Paperclip.Backend.Security;
using Paperclip.Contracts;
using Paperclip.Games;
using LobbyAddress = Paperclip.Contracts.LobbyAddress;
using LobbySummary = Paperclip.Contracts.LobbySummary;

namespace Paperclip.Backend.Endpoints;

/// <summary>Lobbies and matchmaking: <c>/lobby/…</c>, served by the <see cref="ILobbyRegistry"/>.</summary>
public static class LobbyEndpoints
{
    /// <summary>Maps the <c>/lobby</c> group.</summary>
    public static IEndpointRouteBuilder MapLobbyEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/lobby").WithTags("Lobbies").RequireAccount();
        group.MapGet("/", GetAsync)
            .WithName("GetLobby")
            .WithSummary("A lobby's address and game.")
            .WithQueryParameter("lobby-id", JsonSchemaType.Integer, "The lobby.", required: true)
            .WithInputProblems("The lobby-id is missing.")
            .WithProblem(StatusCodes.Status404NotFound, "There is no such lobby.");
        group.MapGet("/all", AllAsync)
            .WithName("ListLobbies")
            .WithSummary("Every lobby with its game, size, members and is-full.")
            .WithResponseDescription(StatusCodes.Status200OK, "Each lobby by its id.");
        group.MapGet("/find", FindAsync)
            .WithName("FindLobby")
            .WithSummary("A lobby of the game with space, the fullest first.")
            .WithGameQueryParameters()
            .WithInputProblems("Neither game-id nor game-name is given.")
            .WithProblem(StatusCodes.Status404NotFound, "There is no such game, or no lobby of it has space.");
        group.MapPost("/create", CreateAsync)
            .WithName("CreateLobby")
            .WithSummary("Creates a lobby and reserves a place in it for the caller.")
            .AcceptsGame()
            .WithResponseDescription(StatusCodes.Status201Created, "The new lobby.")
            .WithProblem(StatusCodes.Status503ServiceUnavailable, "No free port or no capacity for another lobby.");
        group.MapGet("/members", MembersAsync)
            .WithName("ListLobbyMembers")
            .WithSummary("The joined members of every lobby.")
            .WithResponseDescription(StatusCodes.Status200OK, "The account ids of each lobby's members, by lobby id.");
        group.MapGet("/friends", FriendsAsync)
            .WithName("ListFriendsLobbies")
            .WithSummary("The lobbies with space that the caller's friends are in.");
        group.MapPost("/matchmake", MatchmakeAsync)
            .WithName("Matchmake")
            .WithSummary("Find-or-create: reserves a place for the caller in a lobby of the game.")
            .AcceptsGame()
            .WithResponseDescription(StatusCodes.Status200OK, "A place in an existing lobby.")
            .WithResponseDescription(StatusCodes.Status201Created, "A place in a new lobby.")
            .WithProblem(StatusCodes.Status503ServiceUnavailable, "No lobby has space and none can be created (no free port or capacity).");
        return routes;
    }

    private static RouteHandlerBuilder WithGameQueryParameters(this RouteHandlerBuilder endpoint) =>
        endpoint
            .WithQueryParameter("game-id", JsonSchemaType.Integer, "The game, by id (either this or game-name).")
            .WithQueryParameter("game-name", JsonSchemaType.String, "The game, by name, case-insensitive (either this or game-id).");

    private static RouteHandlerBuilder AcceptsGame(this RouteHandlerBuilder endpoint) =>
        endpoint
            .Accepts<GameRequest>("application/json")
            .WithBodyProblems("Neither game-id nor game-name is given.")
            .WithProblem(StatusCodes.Status404NotFound, "There is no such game.");

    private static async Task<Results<Ok<LobbyResponse>, ProblemHttpResult>> GetAsync(Input<LobbyRequest> input, ILobbyRegistry registry, CancellationToken cancellationToken)
    {
        var id = input.Value.LobbyId;
        return await registry.GetLobbyAsync(id, cancellationToken).ConfigureAwait(false) is { } lobby
            ? TypedResults.Ok(ToResponse(lobby))
            : Problems.NotFound($"There is no lobby {id}.");
    }

    private static async Task<Ok<Dictionary<string, LobbySummary>>> AllAsync(ILobbyRegistry registry, CancellationToken cancellationToken) =>
        TypedResults.Ok((await registry.ListAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(
            l => l.LobbyId.ToString(CultureInfo.InvariantCulture),
            l => new LobbySummary(new LobbyGame(l.Game.Id, l.Game.Name), l.Size, l.Members.Count, l.IsFull, l.State),
            StringComparer.Ordinal));

    private static async Task<Ok<Dictionary<string, long[]>>> MembersAsync(ILobbyRegistry registry, CancellationToken cancellationToken) =>
        TypedResults.Ok((await registry.ListAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(
            l => l.LobbyId.ToString(CultureInfo.InvariantCulture),
            l => l.Members.ToArray(),
            StringComparer.Ordinal));

    private static async Task<Results<Ok<LobbyResponse>, ProblemHttpResult>> FindAsync(
        Input<GameRequest> input, GameLookup games, ILobbyRegistry registry, CancellationToken cancellationToken)
    {
        var (game, problem) = await FindGameAsync(input.Value, games, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        return await registry.FindWithSpaceAsync(game!.Id, cancellationToken).ConfigureAwait(false) is { } lobby
            ? TypedResults.Ok(ToResponse(lobby))
            : Problems.NotFound($"No lobby of {game.Name} has space.");
    }

    private static async Task<Results<Created<LobbyResponse>, ProblemHttpResult>> CreateAsync(
        Input<GameRequest> input, ClaimsPrincipal user, GameLookup games, ILobbyRegistry registry, CancellationToken cancellationToken)
    {
        var (game, problem) = await FindGameAsync(input.Value, games, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        try
        {
            var lobby = await registry.CreateAsync(game!, user.GetAccountId(), cancellationToken).ConfigureAwait(false);
            return TypedResults.Created((string?)null, ToResponse(lobby));
        }
        catch (LobbyCapacityException ex)
        {
            return Problems.Unavailable(ex.Message);
        }
    }

    private static async Task<Results<Ok<LobbyResponse>, Created<LobbyResponse>, ProblemHttpResult>> MatchmakeAsync(
        Input<GameRequest> input, ClaimsPrincipal user, GameLookup games, ILobbyRegistry registry, BackendMetrics metrics, CancellationToken cancellationToken)
    {
        var (game, problem) = await FindGameAsync(input.Value, games, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        try
        {
            var assignment = await registry.MatchmakeAsync(game!, user.GetAccountId(), cancellationToken).ConfigureAwait(false);
            metrics.Matchmake(assignment.Created);
            var body = ToResponse(assignment.Lobby);
            return assignment.Created ? TypedResults.Created((string?)null, body) : TypedResults.Ok(body);
        }
        catch (LobbyCapacityException ex)
        {
            metrics.Matchmake(created: null);
            return Problems.Unavailable(ex.Message);
        }
    }

    private static async Task<Ok<List<FriendInLobbies>>> FriendsAsync(ClaimsPrincipal user, PaperclipDbContext db, ILobbyRegistry registry, CancellationToken cancellationToken)
    {
        var me = user.GetAccountId();
        var byMember = new Dictionary<long, List<FriendLobby>>();
        foreach (var lobby in await registry.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!lobby.HasSpace)
            {
                continue;
            }

            foreach (var member in lobby.Members)
            {
                if (!byMember.TryGetValue(member, out var list))
                {
                    byMember[member] = list = [];
                }

                list.Add(new FriendLobby(lobby.LobbyId, lobby.Game.Id, lobby.Game.Name));
            }
        }

        var result = new List<FriendInLobbies>();
        if (byMember.Count == 0)
        {
            return TypedResults.Ok(result);
        }

        var friends = await FriendsEndpoints.ListFriendsAsync(db, me, cancellationToken).ConfigureAwait(false);
        foreach (var friend in friends)
        {
            if (byMember.TryGetValue(friend.Id, out var lobbies))
            {
                result.Add(new FriendInLobbies(new LobbyAccount(friend.Id, friend.Username), lobbies));
            }
        }

        return TypedResults.Ok(result);
    }

    private static async Task<(GameDescriptor? Game, ProblemHttpResult? Problem)> FindGameAsync(
        GameRequest request, GameLookup games, CancellationToken cancellationToken)
    {
        var name = string.IsNullOrEmpty(request.GameName) ? null : request.GameName;
        if (request.GameId is null && name is null)
        {
            return (null, Problems.BadRequest("Either 'game-id' or 'game-name' is required."));
        }

        var game = await games.FindAsync(request.GameId, name, cancellationToken).ConfigureAwait(false);
        return game is null
            ? (null, Problems.NotFound(request.GameId is { } id ? $"There is no game {id}." : $"There is no game '{name}'."))
            : (game, null);
    }

    private static LobbyResponse ToResponse(LobbySnapshot lobby) =>
        new(lobby.LobbyId, new LobbyAddress(lobby.Address.Host, lobby.Address.Port), lobby.Game.Id, lobby.State);
}
