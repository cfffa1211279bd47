using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Paperclip.GameHost.Agones;

/// <summary>Wires the Agones adapter.</summary>
public static class AgonesExtensions
{
    /// <summary>
    /// When <c>AGONES_SDK_HTTP_PORT</c> is set (Agones sets it in the game server's pod), reports
    /// Ready, Health and Shutdown to the sidecar at <c>http://localhost:PORT/</c>; else does nothing.
    /// Call after the lobby host is added, so Ready follows its start.
    /// </summary>
    public static IServiceCollection AddAgonesWhenConfigured(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var port = configuration[AgonesSdk.PortVariable];
        if (string.IsNullOrWhiteSpace(port))
            return services;
        if (!ushort.TryParse(port, out var number) || number == 0)
            throw new Microsoft.Extensions.Options.OptionsValidationException(AgonesSdk.PortVariable, typeof(AgonesOptions),
                [$"{AgonesSdk.PortVariable} must be a TCP port (1 to 65535), not '{port}'."]);

        services.AddOptions<AgonesOptions>().BindConfiguration(AgonesOptions.SectionName)
            .Validate(o => o.HealthSeconds is >= 1 and <= 3600, $"{AgonesOptions.SectionName}:HealthSeconds must be 1 to 3600 seconds.")
            .Validate(o => o.RetrySeconds is >= 1 and <= 3600, $"{AgonesOptions.SectionName}:RetrySeconds must be 1 to 3600 seconds.")
            .ValidateOnStart();
        services.AddHttpClient<AgonesSdk>(http => http.BaseAddress = new Uri($"http://localhost:{number}/"));
        services.AddHostedService<AgonesLifecycle>();
        return services;
    }
}
