using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Paperclip.Contracts;

namespace Paperclip.Backend.Http;

/// <summary>A bound request that may carry the problem to answer instead of calling the handler.</summary>
public interface IInput
{
    /// <summary>The 400/413 problem when the request does not fit its contract; null when it was bound.</summary>
    ProblemHttpResult? Problem { get; }
}

/// <summary>
/// A request's typed fields, <typeparamref name="T"/> (a request record of Paperclip.Contracts),
/// as a minimal-API parameter: read from the JSON object body when the request has one, else from
/// the query string, for every method (api.md). Field names, types and which fields are required
/// come from the contract's source-generated metadata. A request that does not fit (malformed or
/// oversized body, not an object, a missing, null, empty or mistyped field, a duplicated name) is
/// not bound: it carries its 400/413 problem, which <see cref="InputFilter"/> answers before the
/// handler runs — never a 500.
/// </summary>
/// <typeparam name="T">The request record.</typeparam>
public sealed class Input<T> : IInput
    where T : class
{
    private readonly T? _value;

    private Input(T? value, ProblemHttpResult? problem)
    {
        _value = value;
        Problem = problem;
    }

    /// <summary>The request's fields (only for a bound request: handlers behind <see cref="InputFilter"/> see no other).</summary>
    public T Value => _value ?? throw new InvalidOperationException("The request was not bound; its problem is the answer.");

    /// <inheritdoc />
    public ProblemHttpResult? Problem { get; }

    /// <summary>Reads the request's body, or else its query, into <typeparamref name="T"/> (minimal APIs' binding hook).</summary>
    /// <param name="context">The request.</param>
    /// <param name="parameter">The handler's parameter (unused: the contract says everything).</param>
    [SuppressMessage("Design", "CA1000:Do not declare static members on generic types", Justification = "Minimal APIs look for BindAsync on the parameter's own type.")]
    public static async ValueTask<Input<T>> BindAsync(HttpContext context, ParameterInfo? parameter)
    {
        ArgumentNullException.ThrowIfNull(context);
        var info = (JsonTypeInfo<T>)PaperclipJsonContext.Default.GetTypeInfo(typeof(T))!;
        var (body, problem) = await RequestBody.ReadAsync(context).ConfigureAwait(false);
        if (problem is not null)
        {
            return new(null, problem);
        }

        problem = body is null ? RequestFields.FromQuery(context.Request.Query, info, out var value) : RequestFields.FromJson(body, info, out value);
        return new(value, problem);
    }
}

/// <summary>
/// Answers the problem of an <see cref="Input{T}"/> that could not be bound, before the handler
/// runs; added only to endpoints whose handler takes one.
/// </summary>
public static class InputFilter
{
    /// <summary>The endpoint filter factory.</summary>
    public static EndpointFilterDelegate Create(EndpointFilterFactoryContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        var inputs = context.MethodInfo.GetParameters()
            .Where(p => typeof(IInput).IsAssignableFrom(p.ParameterType))
            .Select(p => p.Position)
            .ToArray();
        if (inputs.Length == 0)
        {
            return next;
        }

        return invocation =>
        {
            foreach (var index in inputs)
            {
                if (invocation.Arguments[index] is IInput { Problem: { } problem })
                {
                    return ValueTask.FromResult<object?>(problem);
                }
            }

            return next(invocation);
        };
    }
}

/// <summary>The request body, read within <see cref="PaperclipOptions.MaxRequestBodyBytes"/>.</summary>
internal static class RequestBody
{
    /// <summary>The body's bytes; null when there is none (or only white space), so that the query is read instead.</summary>
    public static async ValueTask<(byte[]? Body, ProblemHttpResult? Problem)> ReadAsync(HttpContext context)
    {
        var request = context.Request;
        var limit = context.RequestServices.GetRequiredService<IOptions<PaperclipOptions>>().Value.MaxRequestBodyBytes;
        if (request.ContentLength > limit)
        {
            return (null, Problems.TooLarge(limit));
        }

        var canHaveBody = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? request.ContentLength is > 0;
        if (!canHaveBody && request.ContentLength is null or 0)
        {
            return (null, null);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(limit + 1);
        try
        {
            var length = 0;
            try
            {
                int read;
                while ((read = await request.Body.ReadAsync(buffer.AsMemory(length, limit + 1 - length), context.RequestAborted).ConfigureAwait(false)) > 0)
                {
                    length += read;
                    if (length > limit)
                    {
                        return (null, Problems.TooLarge(limit));
                    }
                }
            }
            catch (BadHttpRequestException ex)
            {
                return (null, ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? Problems.TooLarge(limit)
                    : Problems.BadRequest("The request body could not be read."));
            }

            var body = buffer.AsSpan(0, length);
            return (body.Trim(" \t\r\n"u8).IsEmpty ? null : body.ToArray(), null);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>Binds a JSON object, or a query string, to a contract record through its JSON metadata.</summary>
internal static class RequestFields
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 16, AllowDuplicateProperties = false };

    /// <summary>A JSON body: it must be an object whose fields fit the contract.</summary>
    public static ProblemHttpResult? FromJson<T>(byte[] json, JsonTypeInfo<T> info, out T? value)
    {
        value = default;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException)
        {
            return Problems.BadRequest("The request body is not valid JSON (or it repeats a name).");
        }
        catch (InvalidOperationException)
        {
            // Comparing names for duplicates reads them: one that is not valid text throws.
            return InvalidText();
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return Problems.BadRequest("The request body must be a JSON object.");
            }

            if (!IsValidText(document.RootElement))
            {
                return InvalidText();
            }

            return Bind(document.RootElement, info, out value);
        }
    }

    /// <summary>
    /// The query string: each contract field from its first non-empty value, as a JSON string or,
    /// for a number field, as the decimal integer it must be.
    /// </summary>
    public static ProblemHttpResult? FromQuery<T>(IQueryCollection query, JsonTypeInfo<T> info, out T? value)
    {
        value = default;
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in info.Properties)
            {
                if (!query.TryGetValue(property.Name, out var values) || values.Count == 0 || string.IsNullOrEmpty(values[0]))
                {
                    continue;
                }

                var text = values[0]!;
                var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
                if (type == typeof(string))
                {
                    writer.WriteString(property.Name, text);
                }
                else if ((type == typeof(long) || type == typeof(int)) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
                {
                    writer.WriteNumber(property.Name, number);
                }
                else
                {
                    return WrongType(property.Name);
                }
            }

            writer.WriteEndObject();
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory, DocumentOptions);
        return Bind(document.RootElement, info, out value);
    }

    // Missing, null and empty fields are told apart from mistyped ones before deserializing, so
    // that each answer names its field; what remains to fail is a wrong type or value.
    private static ProblemHttpResult? Bind<T>(JsonElement fields, JsonTypeInfo<T> info, out T? value)
    {
        value = default;
        foreach (var property in info.Properties)
        {
            var parameter = property.AssociatedParameter;
            var required = property.IsRequired || parameter is { HasDefaultValue: false };
            var nullable = parameter?.IsNullable ?? property.IsSetNullable;
            if (!fields.TryGetProperty(property.Name, out var field))
            {
                if (required)
                {
                    return Required(property.Name);
                }
            }
            else if (field.ValueKind == JsonValueKind.Null ? !nullable : (!nullable && field.ValueKind == JsonValueKind.String && field.GetString()!.Length == 0))
            {
                return Required(property.Name);
            }
        }

        try
        {
            value = fields.Deserialize(info);
            return value is null ? Problems.BadRequest("The request body must be a JSON object.") : null;
        }
        catch (JsonException ex)
        {
            var name = info.Properties.FirstOrDefault(p => ex.Path == "$." + p.Name)?.Name;
            return name is null ? Problems.BadRequest("A field has the wrong type or an invalid value.") : WrongType(name);
        }
    }

    private static ProblemHttpResult InvalidText() =>
        Problems.BadRequest("The request body has a name or string that is not valid UTF-8 or has an unpaired surrogate escape.");

    private static ProblemHttpResult Required(string name) => Problems.BadRequest($"The field '{name}' is required.");

    private static ProblemHttpResult WrongType(string name) => Problems.BadRequest($"The field '{name}' has the wrong type or an invalid value.");

    // JsonDocument does not check that names and strings are valid UTF-8 with paired \u surrogate
    // escapes; reading one that is not throws. Each is read once here (the depth is capped at 16),
    // so that the lookups and deserialization after cannot throw.
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
}
