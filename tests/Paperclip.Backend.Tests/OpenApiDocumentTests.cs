using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Paperclip.Backend.Tests.Infrastructure;
using static Paperclip.Backend.Tests.Infrastructure.Http;

namespace Paperclip.Backend.Tests;

/// <summary>
/// The served OpenAPI document says what the server does: which operations need credentials, and
/// that every error answer is problem+json. (Redocly's lint of the same document runs in CI:
/// .ci/openapi-lint.)
/// </summary>
public sealed class OpenApiDocumentTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    [Fact]
    public async Task Operations_need_credentials_exactly_where_the_document_says()
    {
        var operations = Operations(await DocumentAsync()).ToList();
        Assert.NotEmpty(operations);
        using var client = app.Anonymous();
        foreach (var (method, path, operation) in operations)
        {
            var schemes = operation.GetProperty("security").EnumerateArray().SelectMany(r => r.EnumerateObject().Select(s => s.Name)).ToHashSet();
            using var request = new HttpRequestMessage(new HttpMethod(method.ToUpperInvariant()), path);
            if (operation.TryGetProperty("requestBody", out _))
            {
                request.Content = Json("{}");
            }

            using var response = await client.SendAsync(request);
            var anonymousIsRefused = response.StatusCode == HttpStatusCode.Unauthorized;
            Assert.True(
                anonymousIsRefused == (schemes.Count > 0),
                $"{method} {path}: document names [{string.Join(", ", schemes)}], anonymous request got {(int)response.StatusCode}");
            if (anonymousIsRefused)
            {
                Assert.Equal(["basic", "bearer"], schemes.Order(StringComparer.Ordinal));
                Assert.True(operation.GetProperty("responses").TryGetProperty("401", out _), $"{method} {path} does not document its 401");
            }
        }
    }

    [Fact]
    public async Task Every_error_answer_is_problem_json_and_every_operation_is_named()
    {
        var document = await DocumentAsync();
        var operationIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (method, path, operation) in Operations(document))
        {
            Assert.True(operationIds.Add(operation.GetProperty("operationId").GetString()!), $"{method} {path}: duplicate operationId");
            Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("summary").GetString()), $"{method} {path}: no summary");
            foreach (var answer in operation.GetProperty("responses").EnumerateObject().Where(r => r.Name[0] is '4' or '5'))
            {
                var schema = answer.Value.GetProperty("content").GetProperty("application/problem+json").GetProperty("schema");
                Assert.Equal("#/components/schemas/ProblemDetails", schema.GetProperty("$ref").GetString());
            }
        }

        var problem = document.GetProperty("components").GetProperty("schemas").GetProperty("ProblemDetails");
        Assert.Equal(["status", "title"], problem.GetProperty("required").EnumerateArray().Select(e => e.GetString()).Order(StringComparer.Ordinal));
        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("bearer", schemes.GetProperty("bearer").GetProperty("scheme").GetString());
        Assert.Equal("JWT", schemes.GetProperty("bearer").GetProperty("bearerFormat").GetString());
        Assert.Equal("basic", schemes.GetProperty("basic").GetProperty("scheme").GetString());
        Assert.All(document.GetProperty("servers").EnumerateArray(), s => Assert.False(s.GetProperty("url").GetString()!.EndsWith('/')));
    }

    [Fact]
    public async Task Get_operations_document_their_fields_as_query_parameters_that_the_server_reads()
    {
        var document = await DocumentAsync();
        var parameters = document.GetProperty("paths").GetProperty("/lobby").GetProperty("get").GetProperty("parameters").EnumerateArray().ToList();
        var lobbyId = Assert.Single(parameters);
        Assert.Equal("lobby-id", lobbyId.GetProperty("name").GetString());
        Assert.Equal("query", lobbyId.GetProperty("in").GetString());
        Assert.True(lobbyId.GetProperty("required").GetBoolean());

        var user = await app.RegisterAsync("query");
        using var client = app.Client(user);
        using var missing = await client.GetAsync("/lobby");
        await missing.AssertProblemAsync(HttpStatusCode.BadRequest);
        using var unknown = await client.GetAsync("/lobby?lobby-id=987654");
        await unknown.AssertProblemAsync(HttpStatusCode.NotFound);
    }

    private async Task<JsonElement> DocumentAsync()
    {
        using var client = app.Anonymous();
        return await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
    }

    private static IEnumerable<(string Method, string Path, JsonElement Operation)> Operations(JsonElement document) =>
        from path in document.GetProperty("paths").EnumerateObject()
        from operation in path.Value.EnumerateObject()
        where Methods.Contains(operation.Name)
        select (operation.Name, path.Name, operation.Value);
}
