using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Paperclip.Backend.Http;

/// <summary>How a field was found.</summary>
public enum FieldState
{
    /// <summary>Neither in the body nor in the query, or empty.</summary>
    Missing,

    /// <summary>Present with the right type.</summary>
    Present,

    /// <summary>Present with the wrong type or an unparsable value.</summary>
    Invalid,
}

/// <summary>A field read from the request.</summary>
/// <typeparam name="T">The field's type.</typeparam>
/// <param name="State">How it was found.</param>
/// <param name="Value">The value when <see cref="FieldState.Present"/>.</param>
/// <param name="Name">The field name.</param>
public readonly record struct Field<T>(FieldState State, T? Value, string Name)
{
    /// <summary>True when present and valid.</summary>
    public bool IsPresent => State == FieldState.Present;

    /// <summary>A 400 problem describing why the field cannot be used.</summary>
    public ProblemHttpResult Problem() => State == FieldState.Invalid
        ? Problems.BadRequest($"The field '{Name}' has the wrong type or an invalid value.")
        : Problems.BadRequest($"The field '{Name}' is required.");
}

/// <summary>
/// The fields of a request: a JSON object body when there is one, else (for every method) the
/// query string. The body is read by hand, so that malformed JSON, a body that is not an object,
/// wrong types and oversized bodies are all 400/413 problem+json, never 500.
/// </summary>
public sealed class RequestInput
{
    private static readonly RequestInput Empty = new(default, null);

    private readonly JsonElement _body;
    private readonly IQueryCollection? _query;

    private RequestInput(JsonElement body, IQueryCollection? query)
    {
        _body = body;
        _query = query;
    }

    /// <summary>Reads the request; on failure returns a problem to send instead.</summary>
    public static async ValueTask<(RequestInput Input, ProblemHttpResult? Problem)> ReadAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        var limit = context.RequestServices.GetRequiredService<IOptions<PaperclipOptions>>().Value.MaxRequestBodyBytes;
        var query = request.Query.Count > 0 ? request.Query : null;
        if (request.ContentLength is > 0 && request.ContentLength > limit)
        {
            return (Empty, Problems.TooLarge(limit));
        }

        var canHaveBody = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? request.ContentLength is > 0;
        if (!canHaveBody && request.ContentLength is null or 0)
        {
            return (new RequestInput(default, query), null);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(limit + 1);
        var length = 0;
        try
        {
            try
            {
                int read;
                while ((read = await request.Body.ReadAsync(buffer.AsMemory(length, limit + 1 - length), context.RequestAborted).ConfigureAwait(false)) > 0)
                {
                    length += read;
                    if (length > limit)
                    {
                        return (Empty, Problems.TooLarge(limit));
                    }
                }
            }
            catch (BadHttpRequestException ex)
            {
                return (Empty, ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? Problems.TooLarge(limit)
                    : Problems.BadRequest("The request body could not be read."));
            }

            var span = buffer.AsSpan(0, length);
            if (span.Trim(" \t\r\n"u8).IsEmpty)
            {
                return (new RequestInput(default, query), null);
            }

            try
            {
                using var document = JsonDocument.Parse(buffer.AsMemory(0, length), new JsonDocumentOptions { MaxDepth = 16 });
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    return (Empty, Problems.BadRequest("The request body must be a JSON object."));
                }

                if (!IsValidText(document.RootElement))
                {
                    return (Empty, Problems.BadRequest("The request body has a name or string that is not valid UTF-8 or has an unpaired surrogate escape."));
                }

                return (new RequestInput(document.RootElement.Clone(), query), null);
            }
            catch (JsonException)
            {
                return (Empty, Problems.BadRequest("The request body is not valid JSON."));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A non-empty string field.</summary>
    /// <summary>
    /// Reads the body and the one required string field <paramref name="name"/>: the value, or
    /// the 400/413 problem for a bad body or a missing, empty or mistyped field.
    /// </summary>
    public static async ValueTask<(string? Value, ProblemHttpResult? Problem)> ReadRequiredStringAsync(HttpContext context, string name)
    {
        var (input, problem) = await ReadAsync(context).ConfigureAwait(false);
        if (problem is not null)
        {
            return (null, problem);
        }

        var field = input.GetString(name);
        return field.IsPresent ? (field.Value, null) : (null, field.Problem());
    }

    public Field<string> GetString(string name)
    {
        if (TryGetBody(name, out var element))
        {
            return element.ValueKind switch
            {
                JsonValueKind.String => ReadString(element, name),
                JsonValueKind.Null => new(FieldState.Missing, null, name),
                _ => new(FieldState.Invalid, null, name),
            };
        }

        return TryGetQuery(name, out var text)
            ? new(FieldState.Present, text, name)
            : new(FieldState.Missing, null, name);
    }

    /// <summary>An integer field (a JSON number; in the query, decimal digits).</summary>
    public Field<long> GetInt64(string name)
    {
        if (TryGetBody(name, out var element))
        {
            return element.ValueKind switch
            {
                JsonValueKind.Number when element.TryGetInt64(out var value) => new(FieldState.Present, value, name),
                JsonValueKind.Null => new(FieldState.Missing, 0, name),
                _ => new(FieldState.Invalid, 0, name),
            };
        }

        if (!TryGetQuery(name, out var text))
        {
            return new(FieldState.Missing, 0, name);
        }

        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed)
            ? new(FieldState.Present, parsed, name)
            : new(FieldState.Invalid, 0, name);
    }

    // JsonDocument does not check that names and strings are valid UTF-8 with paired \u surrogate
    // escapes; reading one that is not (GetString, or TryGetProperty comparing an escaped name) throws.
    // Each is read once here (the depth is capped at 16), so that later lookups cannot throw.
    private static bool IsValidText(JsonElement element)
    {
        try
        {
            Walk(element);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }

        static void Walk(JsonElement element)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        _ = property.Name;
                        Walk(property.Value);
                    }

                    break;
                case JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                    {
                        Walk(item);
                    }

                    break;
                case JsonValueKind.String:
                    _ = element.GetString();
                    break;
            }
        }
    }

    // JsonDocument does not check that a string is valid UTF-8 or that its \u escapes pair their
    // surrogates; GetString throws then, and that is the client's error, not the server's.
    private static Field<string> ReadString(JsonElement element, string name)
    {
        string? value;
        try
        {
            value = element.GetString();
        }
        catch (InvalidOperationException)
        {
            return new(FieldState.Invalid, null, name);
        }

        return string.IsNullOrEmpty(value) ? new(FieldState.Missing, null, name) : new(FieldState.Present, value, name);
    }

    private bool TryGetBody(string name, out JsonElement element)
    {
        element = default;
        return _body.ValueKind == JsonValueKind.Object && _body.TryGetProperty(name, out element);
    }

    private bool TryGetQuery(string name, out string value)
    {
        value = string.Empty;
        if (_query is null || !_query.TryGetValue(name, out var values) || values.Count == 0 || string.IsNullOrEmpty(values[0]))
        {
            return false;
        }

        value = values[0]!;
        return true;
    }
}

/// <summary>The API's problem+json answers.</summary>
public static class Problems
{
    /// <summary>400.</summary>
    public static ProblemHttpResult BadRequest(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Bad Request");

    /// <summary>404.</summary>
    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not Found");

    /// <summary>409.</summary>
    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict");

    /// <summary>413.</summary>
    public static ProblemHttpResult TooLarge(int limit) =>
        TypedResults.Problem($"The request body is larger than {limit} bytes.", statusCode: StatusCodes.Status413PayloadTooLarge, title: "Payload Too Large");

    /// <summary>503.</summary>
    public static ProblemHttpResult Unavailable(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service Unavailable");
}
