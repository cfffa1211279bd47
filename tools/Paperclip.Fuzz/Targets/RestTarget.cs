using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Paperclip.Backend;
using Paperclip.Backend.Endpoints;
using Paperclip.Backend.Http;
using Paperclip.Backend.Security;
using Paperclip.Contracts;

namespace Paperclip.Fuzz.Targets;

/// <summary>
/// <c>rest</c>: a request's query string and body bound through <see cref="Input{T}"/> to each
/// request record of the contract, then checked as each endpoint checks it. Promised: a 400 or
/// 413 problem, or a bound record, never an exception (an exception would be a 500).
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

        // Every request record an endpoint binds, checked as that endpoint checks it.
        if (Bind<RegisterRequest>(mode, query, body) is { } register && AccountService.IsValidUsername(register.Username))
            AccountService.Normalize(register.Username);
        Bind<LobbyRequest>(mode, query, body);
        Bind<GameRequest>(mode, query, body);
        if (Bind<CertificateValidationRequest>(mode, query, body) is { } certificate)
            AuthEndpoints.TryDecodeCertificate(certificate.Certificate, out _);
        if (Bind<UsernameRequest>(mode, query, body) is { } user && AccountService.IsValidUsername(user.Username))
            AccountService.Normalize(user.Username);
    }

    private static T? Bind<T>(byte mode, ReadOnlySpan<byte> query, ReadOnlySpan<byte> body)
        where T : class
    {
        var bound = Input<T>.BindAsync(NewContext(mode, query, body), null).AsTask().GetAwaiter().GetResult();
        if (bound.Problem is { } problem)
        {
            if (problem.StatusCode is not (StatusCodes.Status400BadRequest or StatusCodes.Status413PayloadTooLarge))
                throw new FindingException($"A request was answered {problem.StatusCode}.");
            return null;
        }

        return bound.Value;
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

    private sealed class CanHaveBody : IHttpRequestBodyDetectionFeature
    {
        bool IHttpRequestBodyDetectionFeature.CanHaveBody => true;
    }
}
