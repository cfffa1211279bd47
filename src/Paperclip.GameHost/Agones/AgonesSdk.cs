using System.Net.Http.Headers;

namespace Paperclip.GameHost.Agones;

/// <summary>
/// The Agones SDK sidecar's REST gateway (agones.dev/site/docs/guides/client-sdks/rest/):
/// <c>POST /ready</c>, <c>POST /health</c> and <c>POST /shutdown</c> with an empty JSON object, on
/// <c>http://localhost:${AGONES_SDK_HTTP_PORT}/</c>.
/// </summary>
/// <param name="http">A client whose BaseAddress is the sidecar.</param>
public sealed class AgonesSdk(HttpClient http)
{
    /// <summary>The environment variable Agones sets for the game server's process.</summary>
    public const string PortVariable = "AGONES_SDK_HTTP_PORT";

    /// <summary>The game server is ready to take players (GameServer state Ready).</summary>
    public Task ReadyAsync(CancellationToken cancellationToken) => PostAsync("ready", cancellationToken);

    /// <summary>One health ping; Agones marks the game server Unhealthy when they stop.</summary>
    public Task HealthAsync(CancellationToken cancellationToken) => PostAsync("health", cancellationToken);

    /// <summary>The game server is shutting down (GameServer state Shutdown).</summary>
    public Task ShutdownAsync(CancellationToken cancellationToken) => PostAsync("shutdown", cancellationToken);

    private async Task PostAsync(string path, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent("{}"u8.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync(path, content, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }
}
