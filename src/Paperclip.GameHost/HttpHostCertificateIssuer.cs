using System.Net.Http.Headers;
using Microsoft.Extensions.Options;
using Paperclip.Backend.Endpoints;
using Paperclip.Backend.Security;
using BackendOptions = Paperclip.Backend.PaperclipOptions;

namespace Paperclip.GameHost;

/// <summary>
/// Gets a game host's certificate from an API node (<c>Paperclip:Cluster:ApiUrl</c>) with the
/// cluster's host secret: what a <c>Mode=GameHost</c> process uses, as it holds no server key.
/// </summary>
public sealed class HttpHostCertificateIssuer(HttpClient http, IOptions<BackendOptions> options) : IHostCertificateIssuer
{
    /// <inheritdoc />
    public async ValueTask<byte[]> IssueAsync(ReadOnlyMemory<byte> hostPublicKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var cluster = options.Value.Cluster;
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(cluster.ApiUrl!), HostCertificateEndpoints.Path));
        request.Headers.Add(HostCertificateEndpoints.SecretHeader, cluster.HostSecret);
        request.Content = new ReadOnlyMemoryContent(hostPublicKey);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{HostCertificateEndpoints.Path} at {cluster.ApiUrl} answered {(int)response.StatusCode}.", null, response.StatusCode);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
    }
}
