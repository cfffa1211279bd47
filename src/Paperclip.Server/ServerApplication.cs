using Paperclip.Backend;
using Paperclip.GameHost;
using Serilog;

namespace Paperclip.Server;

/// <summary>Builds the Paperclip server: the REST API and the lobby game servers in one host.</summary>
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
        builder.AddPaperclipBackend();
        builder.AddPaperclipGameHost();
        builder.Services.AddSerilog((services, logger) => ServerLogging.Configure(logger, builder.Configuration, services));

        var app = builder.Build();
        app.MapPaperclipApi();
        return app;
    }
}
