using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Paperclip.Backend.Tests.Hardening;

/// <summary>How a hostile request authenticates.</summary>
public enum AuthKind
{
    /// <summary>No Authorization header.</summary>
    None,

    /// <summary>A valid Bearer token.</summary>
    Bearer,

    /// <summary>Valid Basic username:password.</summary>
    Basic,

    /// <summary>An Authorization header that is garbage.</summary>
    Garbage,
}

/// <summary>How the body is framed.</summary>
public enum BodyMode
{
    /// <summary>With its true Content-Length.</summary>
    Normal,

    /// <summary>Chunked: no Content-Length.</summary>
    Chunked,

    /// <summary>A Content-Length larger than the body.</summary>
    LengthTooLarge,

    /// <summary>A Content-Length smaller than the body.</summary>
    LengthTooSmall,
}

/// <summary>One hostile request.</summary>
public sealed record HostileRequest(string Method, string Path, byte[]? Body, string? ContentType, AuthKind Auth, BodyMode Mode = BodyMode.Normal)
{
    /// <summary>A one-line description for failure messages.</summary>
    public override string ToString() =>
        $"{Method} {AnswerCheck.Snip(Path, 120)} auth={Auth} mode={Mode} type={ContentType ?? "-"} body={AnswerCheck.Show(Body)}";
}

/// <summary>A route of the app: a method and a concrete path.</summary>
public sealed record Route(string Method, string Path, bool RequiresAuth);

/// <summary>The hostile inputs: every route from the endpoint data sources, and the bodies, queries and framings to send them.</summary>
public static partial class HostileRequests
{
    /// <summary>The body and query fields the API knows.</summary>
    public static readonly string[] KnownFields = ["username", "password", "certificate", "game-id", "game-name", "lobby-id"];

    /// <summary>Wrong or edge values for a field: numbers as strings, objects, booleans, floats, huge and negative integers, bad strings.</summary>
    public static readonly string[] FieldValues =
    [
        "\"123\"", "123", "-1", "0", "1.5", "-0.0", "1e309", "-1e309", "1E2", "9223372036854775807", "9223372036854775808",
        "-9223372036854775809", "99999999999999999999", "true", "false", "null", "{}", "{\"a\":1}", "[]", "[1,2]", "\"\"", "\" \"",
        "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00x\"", "\"\\ud83d\\ude00\"", "\"a\\nb\"", "\"../../etc/passwd\"", "\"RPS\"", "\"rps\"",
        "\"Mario\"", "\"%00\"", "\"\\\"\"", "\"" + new string('A', 40) + "\"", "\"" + new string('9', 30) + "\"",
    ];

    private static readonly string[] ContentTypes =
    [
        "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz",
        "application/json; charset=utf-16", "application/json; charset=nonsense", "application/merge-patch+json",
        "application/json, text/plain", ";;;", "application/", "*/*", "application/json;charset=\"", "\u0001",
    ];

    private static readonly string[] Queries =
    [
        "?lobby-id=abc", "?lobby-id=99999999999999999999", "?lobby-id=-1", "?lobby-id=", "?lobby-id", "?lobby-id=1.0", "?lobby-id=+1",
        "?lobby-id=%2B1", "?lobby-id=0x10", "?lobby-id=1e3", "?lobby-id=%E2%80%8B1", "?lobby-id=1&lobby-id=abc", "?lobby-id=%00",
        "?game-id=-1", "?game-id=", "?game-id=abc", "?game-id=1e309", "?game-id=9223372036854775808", "?game-id=1&game-name=",
        "?game-name=", "?game-name=%00", "?game-name=%FF%FE", "?game-name=" + new string('x', 5000), "?username=%FF",
        "?username=" + new string('a', 33), "?certificate=%FF", "?certificate=AAAA", "?certificate=====", "?=", "?&&&", "?%",
        "?a=%zz", "?%zz=1", "?password=%C0%80",
    ];

    /// <summary>Every route the app maps, read from its endpoint data source (so new endpoints are covered).</summary>
    public static IReadOnlyList<Route> Routes(IServiceProvider services)
    {
        var routes = new List<Route>();
        foreach (var endpoint in services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var raw = endpoint.RoutePattern.RawText ?? string.Empty;
            var path = RouteParameter().Replace(raw.StartsWith('/') ? raw : "/" + raw, "v1");
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is { Count: > 0 } m ? m : ["GET", "POST"];
            var requiresAuth = endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>() is not null;
            routes.AddRange(methods.Select(method => new Route(method, path, requiresAuth)));
        }

        return routes.Distinct().OrderBy(r => r.Path, StringComparer.Ordinal).ThenBy(r => r.Method, StringComparer.Ordinal).ToList();
    }

    /// <summary>A JSON object with a plausible value for every known field.</summary>
    public static Dictionary<string, string> BaseFields(string peer, string certificate) => new(StringComparer.Ordinal)
    {
        ["username"] = $"\"{peer}\"",
        ["password"] = "\"Secret-123\"",
        ["certificate"] = $"\"{certificate}\"",
        ["game-id"] = "1",
        ["game-name"] = "\"RPS\"",
        ["lobby-id"] = "1",
    };

    /// <summary>Writes fields as a JSON object (values are raw JSON).</summary>
    public static string JsonObject(IEnumerable<KeyValuePair<string, string>> fields) =>
        "{" + string.Join(",", fields.Select(f => $"\"{f.Key}\":{f.Value}")) + "}";

    /// <summary>A self-signed certificate (no UID): a real X.509 body for <c>/auth/certificate/validate</c>.</summary>
    public static string SelfSignedCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=hostile", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddYears(100));
        return Convert.ToBase64String(certificate.RawData);
    }

    /// <summary>The fixed hostile matrix for one route and one kind of authentication.</summary>
    public static IEnumerable<HostileRequest> Matrix(Route route, AuthKind auth, Dictionary<string, string> baseFields)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(baseFields);
        const string json = "application/json";
        var path = route.Path;
        var method = route.Method;
        HostileRequest Body(string text, string? type = json, BodyMode mode = BodyMode.Normal) =>
            new(method, path, Encoding.UTF8.GetBytes(text), type, auth, mode);
        HostileRequest Bytes(byte[] bytes, string? type = json) => new(method, path, bytes, type, auth);

        // No body, an empty body, and the simplest wrong documents.
        yield return new HostileRequest(method, path, null, null, auth);
        yield return Body(string.Empty);
        yield return Body("   \r\n\t ");
        foreach (var document in new[] { "null", "[]", "\"x\"", "{}", "0", "-1", "true", "1e309", "{\"\":1}", "{}{}", "{} x", "[1]", "{,}", "\uFEFF{}" })
        {
            yield return Body(document);
        }

        // Deep nesting.
        yield return Body(new string('[', 10_000));
        yield return Body(new string('[', 10_000) + new string(']', 10_000));
        yield return Body(string.Concat(Enumerable.Repeat("{\"a\":", 10_000)));
        yield return Body("{\"username\":" + new string('[', 5_000) + new string(']', 5_000) + "}");

        // Invalid UTF-8: bare, inside every field's string, and as an overlong encoding.
        yield return Bytes([0xff, 0xfe, 0xfd]);
        yield return Bytes([(byte)'{', 0xc0, 0x80, (byte)'}']);
        foreach (var field in KnownFields)
        {
            foreach (var bad in new byte[][] { [0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf4, 0x90, 0x80, 0x80] })
            {
                var fields = baseFields.Where(f => f.Key != field).Select(f => Encoding.UTF8.GetBytes($"\"{f.Key}\":{f.Value},"));
                yield return Bytes([.. "{"u8, .. fields.SelectMany(b => b), .. Encoding.UTF8.GetBytes($"\"{field}\":\"a"), .. bad, .. "b\"}"u8]);
            }
        }

        // Names that are not valid text (longer than any field name, as a lookup compares only those),
        // around the known fields and alone, and nested.
        var known = JsonObject(baseFields)[1..^1];
        yield return Body("{\"\\ud800certificate-lobby-id\":1," + known + "}");
        yield return Body("{" + known + ",\"\\udc00certificate-lobby-id\":null}");
        yield return Body("{\"\\ud800@game-id\":1}");
        yield return Bytes([.. "{\"certificate-lobby-id"u8, 0xff, .. "\":1,"u8, .. Encoding.UTF8.GetBytes(known), .. "}"u8]);
        yield return Body("{\"x\":{\"\\ud800\":[\"\\udfff\"]}," + known + "}");

        // Huge: a 1 MB field (413), 60 kB fields (just under the limit), and a chunked body over the limit.
        yield return Body("{\"username\":\"" + new string('a', 1 << 20) + "\",\"password\":\"x\"}");
        foreach (var field in KnownFields)
        {
            yield return Body(JsonObject(baseFields.Where(f => f.Key != field).Append(new(field, "\"" + new string('7', 60_000) + "\""))));
        }

        yield return Body("{\"username\":\"" + new string('b', 100_000) + "\"}", json, BodyMode.Chunked);
        yield return Body(JsonObject(baseFields), json, BodyMode.Chunked);

        // Wrong types for every known field, alone and among valid fields.
        foreach (var field in KnownFields)
        {
            foreach (var value in FieldValues)
            {
                yield return Body(JsonObject([new(field, value)]));
                yield return Body(JsonObject(baseFields.Where(f => f.Key != field).Append(new(field, value))));
            }
        }

        // Duplicated keys.
        yield return Body("{\"username\":\"a\",\"username\":{\"x\":1},\"password\":\"p\",\"password\":7}");
        yield return Body("{\"game-id\":1,\"game-id\":\"1\",\"game-name\":null,\"game-name\":\"RPS\"}");
        yield return Body("{\"lobby-id\":1,\"lobby-id\":1e309}");

        // Wrong or missing Content-Type with a valid body.
        var valid = JsonObject(baseFields);
        yield return Body(valid, null);
        foreach (var type in ContentTypes)
        {
            yield return Body(valid, type);
        }

        yield return Body("username=a&password=b", "application/x-www-form-urlencoded");

        // Content-Length lies.
        yield return Body(valid, json, BodyMode.LengthTooLarge);
        yield return Body(valid, json, BodyMode.LengthTooSmall);

        // Garbage query parameters, with no body and with a valid body.
        foreach (var query in Queries)
        {
            yield return new HostileRequest(method, path + query, null, null, auth);
            yield return new HostileRequest(method, path + query, Encoding.UTF8.GetBytes(valid), json, auth);
        }
    }

    /// <summary>Builds the message for a hostile request.</summary>
    public static HttpRequestMessage Message(HostileRequest request, Func<AuthKind, AuthenticationHeaderValue?> authorization)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(authorization);
        var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Path);
        if (request.Auth == AuthKind.Garbage)
        {
            message.Headers.TryAddWithoutValidation("Authorization", "Bearer \u00ff\u0000" + new string('.', 50));
        }
        else if (authorization(request.Auth) is { } header)
        {
            message.Headers.Authorization = header;
        }

        if (request.Body is { } body)
        {
            HttpContent content = request.Mode switch
            {
                BodyMode.Normal => new ByteArrayContent(body),
                BodyMode.Chunked => new UnknownLengthContent(body, null),
                BodyMode.LengthTooLarge => new UnknownLengthContent(body, body.Length + 100),
                _ => new UnknownLengthContent(body, Math.Max(0, body.Length / 2)),
            };
            if (request.ContentType is { } type)
            {
                content.Headers.TryAddWithoutValidation("Content-Type", type);
            }

            message.Content = content;
            if (request.Mode == BodyMode.Chunked)
            {
                message.Headers.TransferEncodingChunked = true;
            }
        }

        return message;
    }

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex RouteParameter();

    /// <summary>A body whose length is not known in advance, or is declared falsely.</summary>
    private sealed class UnknownLengthContent : HttpContent
    {
        private readonly byte[] _body;

        public UnknownLengthContent(byte[] body, long? declaredLength)
        {
            _body = body;
            if (declaredLength is { } length)
            {
                Headers.ContentLength = length;
            }
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            // In pieces, as a client streaming a body would.
            for (var offset = 0; offset < _body.Length; offset += 8192)
            {
                await stream.WriteAsync(_body.AsMemory(offset, Math.Min(8192, _body.Length - offset)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
