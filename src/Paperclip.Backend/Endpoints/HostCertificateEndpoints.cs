using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Paperclip.Backend.Http;
using Paperclip.Backend.Security;

namespace Paperclip.Backend.Endpoints;

/// <summary>
/// <c>POST /internal/host-certificate</c> on API nodes: a game host sends its public key
/// (SubjectPublicKeyInfo DER, <c>application/octet-stream</c>) with the cluster's host secret in
/// <see cref="SecretHeader"/>, and gets a certificate for it (<c>application/pkix-cert</c>).
/// Not part of the public API: not in the OpenAPI document, only mapped in <c>Mode=Api</c>.
/// </summary>
public static class HostCertificateEndpoints
{
    /// <summary>The request header that carries <see cref="ClusterOptions.HostSecret"/>.</summary>
    public const string SecretHeader = "Paperclip-Host-Secret";

    /// <summary>The endpoint's path.</summary>
    public const string Path = "/internal/host-certificate";

    /// <summary>Maps the endpoint.</summary>
    public static IEndpointRouteBuilder MapHostCertificateEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost(Path, IssueAsync).ExcludeFromDescription();
        return routes;
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> IssueAsync(
        HttpContext context, IHostCertificateIssuer issuer, IOptions<PaperclipOptions> options)
    {
        if (!IsHostSecret(context.Request.Headers[SecretHeader], options.Value.Cluster.HostSecret))
            return TypedResults.Problem($"The {SecretHeader} header must carry the cluster's host secret.", statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
        var (body, problem) = await RequestBody.ReadAsync(context).ConfigureAwait(false);
        if (problem is not null)
            return problem;
        if (body is null)
            return Problems.BadRequest("The body must be the host's public key: SubjectPublicKeyInfo DER.");
        try
        {
            var certificate = await issuer.IssueAsync(body, context.RequestAborted).ConfigureAwait(false);
            return TypedResults.File(certificate, "application/pkix-cert");
        }
        catch (CryptographicException)
        {
            return Problems.BadRequest("The body is not an ECDSA or RSA public key (SubjectPublicKeyInfo DER).");
        }
    }

    // Compared in constant time, through hashes so lengths leak nothing either.
    private static bool IsHostSecret(string? presented, string? expected) =>
        !string.IsNullOrEmpty(presented) && !string.IsNullOrEmpty(expected)
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected.Trim())));
}
