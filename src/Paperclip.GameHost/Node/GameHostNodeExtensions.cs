using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Paperclip.Backend.Lobbies;
using Paperclip.Backend.Lobbies.Redis;

namespace Paperclip.GameHost.Node;

/// <summary>Runs this process as a game-host node of the Redis registry.</summary>
public static class GameHostNodeExtensions
{
    /// <summary>
    /// The node of <c>Paperclip:GameHost</c> over the Redis store of <c>Paperclip:Redis</c>: its
    /// lobby servers report members with its epoch. Needs the game host's lobby servers
    /// (<see cref="GameHostExtensions.AddPaperclipGameHost"/>: games, certificates, account keys);
    /// <see cref="GameHostProcessExtensions.AddGameHostProcess"/> composes the whole process.
    /// </summary>
    public static IServiceCollection AddGameHostNode(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddRedisLobbyStore(configuration);
        services.AddOptions<GameHostNodeOptions>().Bind(configuration.GetSection(GameHostNodeOptions.SectionName))
            .Validate(o => !string.IsNullOrWhiteSpace(o.HostId) && !o.HostId.Contains(':', StringComparison.Ordinal), $"{GameHostNodeOptions.SectionName}:HostId must be a non-empty name without colons.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.PublicHost), $"{GameHostNodeOptions.SectionName}:PublicHost must be set.")
            .Validate(o => TryParse(o.PortRange), $"{GameHostNodeOptions.SectionName}:PortRange must be first-last, 1 to 65535.")
            .ValidateOnStart();
        services.TryAddSingleton(sp =>
        {
            var node = sp.GetRequiredService<IOptions<GameHostNodeOptions>>().Value;
            return new RedisGameHostClient(sp.GetRequiredService<RedisLobbyStore>(), node.HostId, node.PublicHost, PortRange.Parse(node.PortRange));
        });
        services.Replace(ServiceDescriptor.Singleton<ILobbyMembership>(sp => sp.GetRequiredService<RedisGameHostClient>()));
        services.TryAddSingleton<GameHostNode>();
        services.AddHostedService(sp => sp.GetRequiredService<GameHostNode>());
        return services;
    }

    private static bool TryParse(string range)
    {
        try
        {
            PortRange.Parse(range);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
