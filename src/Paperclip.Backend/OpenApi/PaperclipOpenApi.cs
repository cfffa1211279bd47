using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Paperclip.Contracts;
using Scalar.AspNetCore;

namespace Paperclip.Backend.OpenApi;

/// <summary>
/// The OpenAPI document served at <c>/openapi/v1.json</c> (a contract that client generators and
/// linters read) and the interactive reference at <c>/docs</c>.
/// </summary>
public static class PaperclipOpenApi
{
    /// <summary>The document's name: <c>/openapi/v1.json</c>.</summary>
    public const string DocumentName = "v1";

    /// <summary>The security scheme of <c>Authorization: Bearer token</c>.</summary>
    public const string BearerScheme = "bearer";

    /// <summary>The security scheme of <c>Authorization: Basic</c>.</summary>
    public const string BasicScheme = "basic";

    /// <summary>Where the interactive API reference is served.</summary>
    public const string ReferencePath = "/docs";

    private const string Description = """
        The Paperclip backend: accounts and their keys, friends, the games catalogue, lobbies and matchmaking.

        **Input.** An operation's fields are read from a JSON object body when the request has one, else from the
        query string, for every method. This document shows GET operations with query parameters and the others
        with a JSON body; a GET also accepts its fields as a JSON body (the original design's form).

        **Names.** JSON field names are kebab-case (`account-id`, `lobby-addr`).

        **Credentials.** Operations with a security requirement take `Authorization: Basic base64(username:password)`,
        `Basic base64(token:)` (the session token as the user name, empty password) or `Bearer <token>`. Get a token
        from `GET /auth/token`.

        **Errors.** Every 4xx and 5xx answer is `application/problem+json` (RFC 9457) with at least `status` and `title`.
        Malformed JSON, a body that is not an object, a missing field or one of the wrong type is `400`.
        """;

    private static readonly Dictionary<string, string> TagDescriptions = new(StringComparer.Ordinal)
    {
        ["Accounts and keys"] = "Registration, session tokens, the account's encrypted key and certificate checks.",
        ["Friends"] = "Symmetric friendships between accounts.",
        ["Games"] = "The games catalogue.",
        ["Lobbies"] = "Lobbies (one game server on its own UDP port each) and matchmaking.",
        ["Operations"] = "Health of the running server.",
    };

    /// <summary>Registers the document with its security schemes, tags and schema fixes.</summary>
    public static IServiceCollection AddPaperclipOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(DocumentName, options =>
        {
            options.AddDocumentTransformer(DescribeDocument);
            options.AddSchemaTransformer(DescribeSchemas);
        });

    /// <summary>
    /// Maps <c>/openapi/v1.json</c> and, when <see cref="PaperclipOptions.ApiReference"/> says so
    /// (by default in Development), the reference page at <c>/docs</c>.
    /// </summary>
    public static WebApplication MapPaperclipOpenApi(this WebApplication app, bool apiReference)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapOpenApi();
        if (apiReference)
        {
            app.MapScalarApiReference(ReferencePath, reference =>
            {
                reference.WithTitle("Paperclip API")
                    .WithOpenApiRoutePattern("/openapi/{documentName}.json")
                    .AddDocument(DocumentName)
                    .AddPreferredSecuritySchemes(BearerScheme);
                reference.DefaultOpenAllTags = true;
                reference.ShowOperationId = true;
                // A self-hosted server's reference page should not call out to Scalar's services.
                reference.Telemetry = false;
                reference.Agent = new ScalarAgentOptions { Disabled = true };
                reference.ShowDeveloperTools = DeveloperToolsVisibility.Never;
            });
        }

        return app;
    }

    private static Task DescribeDocument(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo { Title = "Paperclip backend API", Version = "1", Description = Description };

        // The generator writes the request's base address, "http://host:port/"; a trailing slash
        // doubles the slash of every path that generated clients append to it.
        foreach (var server in document.Servers ?? [])
        {
            server.Url = server.Url?.TrimEnd('/');
        }

        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal)
        {
            [BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "A session token from GET /auth/token (600 s by default).",
            },
            [BasicScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "basic",
                Description = "username:password, or the session token as the user name with an empty password (token:).",
            },
        };

        // Operations that RequireAccount did not mark take no credentials: say so ("security: [{}]"),
        // so that a reader can tell an anonymous operation from an undocumented one.
        foreach (var operation in (document.Paths ?? []).Values.SelectMany(p => p.Operations?.Values ?? Enumerable.Empty<OpenApiOperation>()))
        {
            if (operation.Security is null || operation.Security.Count == 0)
            {
                operation.Security = [new OpenApiSecurityRequirement()];
            }

            SortResponses(operation);
        }

        foreach (var tag in document.Tags ?? Enumerable.Empty<OpenApiTag>())
        {
            // A tag missing here stays undescribed, and the lint (tag-description) fails on it.
            if (tag.Name is { } name && TagDescriptions.TryGetValue(name, out var description))
            {
                tag.Description = description;
            }
        }

        return Task.CompletedTask;
    }

    // Group conventions (401, 429) come before the endpoint's own answers; readers expect 2xx first.
    private static void SortResponses(OpenApiOperation operation)
    {
        if (operation.Responses is not { Count: > 1 } responses)
        {
            return;
        }

        var sorted = responses.OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
        responses.Clear();
        foreach (var (status, response) in sorted)
        {
            responses.Add(status, response);
        }
    }

    private static Task DescribeSchemas(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = context.JsonTypeInfo.Type;
        if (type == typeof(LobbyAddress))
        {
            // Written as [host, port] by its converter, which the schema generator cannot see.
            schema.Type = JsonSchemaType.Array;
            schema.Description = "[host, port]: the configured public host and the lobby's UDP port.";
            schema.Properties = null;
            schema.Required = null;
            schema.MinItems = 2;
            schema.MaxItems = 2;
            // Not oneOf: generators (Kiota) read a oneOf of primitives as its first member alone.
            schema.Items = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Integer, Description = "The host (string), then the port (integer)." };
        }
        else if (type == typeof(ProblemDetails) && schema.Properties is { } properties)
        {
            // Every problem the API writes has a status and a title (api.md, Errors).
            schema.Description = "An RFC 9457 problem: status and title always, detail usually.";
            schema.Required = new HashSet<string>(StringComparer.Ordinal) { "status", "title" };
            if (properties.TryGetValue("status", out var status) && status is OpenApiSchema statusSchema)
            {
                statusSchema.Type = JsonSchemaType.Integer;
            }

            if (properties.TryGetValue("title", out var title) && title is OpenApiSchema titleSchema)
            {
                titleSchema.Type = JsonSchemaType.String;
            }
        }

        return Task.CompletedTask;
    }
}
