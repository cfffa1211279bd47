using Paperclip.Backend;
using Paperclip.Backend.Lobbies.Redis;
using Paperclip.Games.RockPaperScissors;
using Paperclip.GameHost;
using Paperclip.GameHost.Node;
using Serilog;

namespace Paperclip.Server;

/// <summary>
/// Builds the Paperclip server for its <c>Paperclip:Mode</c>: by default the REST API and the
/// lobby game servers in one host; <c>Api</c> the REST API alone; <c>GameHost</c> the game
/// servers alone, certified by an API node, with health and metrics (docs/scaling.md).
/// </summary>
public static class ServerApplication
{
    /// <summary>
    /// The configured application, not started. Reads a <c>.env</c> file from the working
    /// directory first (its values apply as environment variables unless already set), then the
    /// usual appsettings, environment and command-line configuration.
    /// </summary>
    public static WebApplication Build(string[] args)
    {
        DotEnvFile.Load(Path.Combine(Directory.GetCurrentDirectory(), ".env"));
        var builder = WebApplication.CreateBuilder(args);
        // An unreadable mode is reported by the options check at start, naming the key.
        var mode = Enum.TryParse<ServerMode>(builder.Configuration[$"{PaperclipOptions.SectionName}:Mode"], ignoreCase: true, out var parsed) ? parsed : ServerMode.Embedded;
        builder.Services.AddPaperclipGame<RockPaperScissorsGame>();
        builder.Services.AddSerilog((services, logger) => ServerLogging.Configure(logger, builder.Configuration, services));
        if (mode == ServerMode.GameHost)
        {
            builder.AddGameHostProcess();
            var host = builder.Build();
            host.MapGameHostProcess();
            return host;
        }

        builder.AddPaperclipBackend();
        if (mode == ServerMode.Api)
            builder.Services.AddRedisLobbyRegistry(builder.Configuration);
        else
            builder.AddPaperclipGameHost();
        var app = builder.Build();
        app.MapPaperclipApi();
        return app;
    }
}
