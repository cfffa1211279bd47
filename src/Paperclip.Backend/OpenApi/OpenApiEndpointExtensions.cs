using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.OpenApi;

namespace Paperclip.Backend.OpenApi;

/// <summary>
/// What an endpoint tells the OpenAPI document beyond its handler's signature: the query
/// parameters and problem answers of handlers that bind <see cref="Http.Input{T}"/> (a custom
/// binding the generator cannot see into), and the credentials an endpoint requires.
/// </summary>
public static class OpenApiEndpointExtensions
{
    /// <summary>
    /// Requires an account (Basic or Bearer) and documents it: the two security schemes, the
    /// <c>401</c> answer with <c>WWW-Authenticate</c> and the <c>429</c> answer to a throttled
    /// password login with <c>Retry-After</c>.
    /// </summary>
    public static TBuilder RequireAccount<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.RequireAuthorization();
        builder.WithProblem(StatusCodes.Status401Unauthorized, "Missing, malformed, wrong or expired credentials.");
        builder.WithProblem(StatusCodes.Status429TooManyRequests, "Too many failed password logins for this user name or client address (Basic username:password only).");
        return builder.AddOpenApiOperationTransformer((operation, context, _) =>
        {
            // Either scheme is enough: two requirement objects, not one with both.
            operation.Security =
            [
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(PaperclipOpenApi.BearerScheme, context.Document)] = [] },
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(PaperclipOpenApi.BasicScheme, context.Document)] = [] },
            ];
            AddHeader(operation, StatusCodes.Status401Unauthorized, "WWW-Authenticate", "The accepted schemes: Basic and Bearer, realm \"Paperclip\".", JsonSchemaType.String);
            AddHeader(operation, StatusCodes.Status429TooManyRequests, "Retry-After", "Seconds until password logins are accepted again.", JsonSchemaType.Integer);
            return Task.CompletedTask;
        });
    }

    /// <summary>Documents a <c>application/problem+json</c> answer with this status and what it means here.</summary>
    public static TBuilder WithProblem<TBuilder>(this TBuilder builder, int status, string description)
        where TBuilder : IEndpointConventionBuilder =>
        builder.ProducesProblem(status).WithResponseDescription(status, description);

    /// <summary>
    /// Documents the answers to a bad JSON body: <c>400</c> (malformed, not an object, or the
    /// fields this operation checks, as <paramref name="badRequest"/> says), <c>413</c> and <c>415</c>.
    /// </summary>
    public static RouteHandlerBuilder WithBodyProblems(this RouteHandlerBuilder builder, string badRequest) =>
        builder.WithInputProblems(badRequest)
            .WithProblem(StatusCodes.Status415UnsupportedMediaType, "A body that is not application/json.");

    /// <summary>
    /// Documents the answers to bad input in the query or a JSON body: <c>400</c> (as
    /// <paramref name="badRequest"/> says, or malformed JSON) and <c>413</c>.
    /// </summary>
    public static RouteHandlerBuilder WithInputProblems(this RouteHandlerBuilder builder, string badRequest) =>
        builder.WithProblem(StatusCodes.Status400BadRequest, badRequest + " Also: a body that is not a JSON object, or a field of the wrong type.")
            .WithProblem(StatusCodes.Status413PayloadTooLarge, "A body larger than Paperclip:MaxRequestBodyBytes (64 KiB by default).");

    /// <summary>Replaces the generic description ("OK", "Created") of one answer.</summary>
    public static TBuilder WithResponseDescription<TBuilder>(this TBuilder builder, int status, string description)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (operation.Responses?.TryGetValue(Key(status), out var response) == true)
            {
                response.Description = description;
            }

            return Task.CompletedTask;
        });

    /// <summary>
    /// Documents a field that this operation reads from the query string (the API also takes
    /// it from a JSON object body; the document's description says so once).
    /// </summary>
    public static RouteHandlerBuilder WithQueryParameter(this RouteHandlerBuilder builder, string name, JsonSchemaType type, string description, bool required = false) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = name,
                In = ParameterLocation.Query,
                Required = required,
                Description = description,
                Schema = new OpenApiSchema { Type = type, Format = type == JsonSchemaType.Integer ? "int64" : null },
            });
            return Task.CompletedTask;
        });

    private static void AddHeader(OpenApiOperation operation, int status, string name, string description, JsonSchemaType type)
    {
        if (operation.Responses?.TryGetValue(Key(status), out var response) == true && response is OpenApiResponse concrete)
        {
            concrete.Headers ??= new Dictionary<string, IOpenApiHeader>();
            concrete.Headers[name] = new OpenApiHeader { Description = description, Schema = new OpenApiSchema { Type = type } };
        }
    }

    private static string Key(int status) => status.ToString(CultureInfo.InvariantCulture);
}
