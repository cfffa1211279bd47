using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using Paperclip.Backend;
using Paperclip.Backend.Endpoints;
using Paperclip.Backend.Http;
using Paperclip.Backend.Security;

namespace Paperclip.Fuzz.Targets;

/// <summary>
/// <c>rest</c>: a request's query string and body through <see cref="RequestInput"/>, then read
/// field by field as each endpoint reads them. Promised: a 400 or 413 problem, never an exception
/// (an exception would be a 500).
/// </summary>
/// <remarks>
/// Input: MODE u8, then the query string up to the first newline, then the body. MODE bit 0
/// sends a Content-Length; bit 1 says the request can have a body without one (chunked).
/// </remarks>
public static class RestTarget
{
    // Small, so that inputs reach the 413 path.
    private const int MaxBodyBytes = 4096;

    private static readonly ServiceProvider Services = new ServiceCollection()
        .Configure<PaperclipOptions>(o => o.MaxRequestBodyBytes = MaxBodyBytes)
        .BuildServiceProvider();

    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
            return;
        var mode = input[0];
        var rest = input[1..];
        var newline = rest.IndexOf((byte)'\n');
        var query = newline < 0 ? rest : rest[..newline];
        var body = newline < 0 ? [] : rest[(newline + 1)..];

        // Every endpoint that reads input, in the way it reads it.
        Read(mode, query, body, input =>
        {
            var username = input.GetString("username");
            Use(username);
            Use(input.GetString("password"));
            AccountService.IsValidUsername(username.Value);
        });
        Read(mode, query, body, input => Use(input.GetInt64("lobby-id")));
        Read(mode, query, body, input =>
        {
            Use(input.GetInt64("game-id"));
            Use(input.GetString("game-name"));
        });
        foreach (var name in (ReadOnlySpan<string>)["certificate", "username"])
        {
            var context = NewContext(mode, query, body);
            var (value, problem) = RequestInput.ReadRequiredStringAsync(context, name).AsTask().GetAwaiter().GetResult();
            if (problem is not null)
            {
                Problem(problem);
                continue;
            }
            if (string.IsNullOrEmpty(value))
                throw new FindingException($"No problem and no value for '{name}'.");
            if (name == "certificate")
                AuthEndpoints.TryDecodeCertificate(value, out _);
            else if (AccountService.IsValidUsername(value))
                AccountService.Normalize(value);
        }
    }

    private static void Read(byte mode, ReadOnlySpan<byte> query, ReadOnlySpan<byte> body, Action<RequestInput> endpoint)
    {
        var (input, problem) = RequestInput.ReadAsync(NewContext(mode, query, body)).AsTask().GetAwaiter().GetResult();
        if (problem is not null)
            Problem(problem);
        else
            endpoint(input);
    }

    private static DefaultHttpContext NewContext(byte mode, ReadOnlySpan<byte> query, ReadOnlySpan<byte> body)
    {
        var context = new DefaultHttpContext { RequestServices = Services };
        var request = context.Request;
        request.Method = HttpMethods.Post;
        request.QueryString = new QueryString("?" + Encoding.UTF8.GetString(query));
        request.Body = new MemoryStream(body.ToArray(), writable: false);
        if ((mode & 1) != 0)
            request.ContentLength = body.Length;
        if ((mode & 2) != 0)
            context.Features.Set<IHttpRequestBodyDetectionFeature>(new CanHaveBody());
        return context;
    }

    private static void Use<T>(Field<T> field)
    {
        if (field.State == FieldState.Present && field.Value is null)
            throw new FindingException($"'{field.Name}' is present without a value.");
        if (!field.IsPresent)
            Problem(field.Problem());
    }

    private static void Problem(ProblemHttpResult problem)
    {
        if (problem.StatusCode is not (StatusCodes.Status400BadRequest or StatusCodes.Status413PayloadTooLarge))
            throw new FindingException($"A request was answered {problem.StatusCode}.");
    }

    private sealed class CanHaveBody : IHttpRequestBodyDetectionFeature
    {
        bool IHttpRequestBodyDetectionFeature.CanHaveBody => true;
    }
}
