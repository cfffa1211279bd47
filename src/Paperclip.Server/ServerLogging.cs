using Serilog;
using Serilog.Events;

namespace Paperclip.Server;

/// <summary>Serilog: the <c>Serilog</c> configuration section, the console, and a daily rolling file in <c>Paperclip:LogDirectory</c> (default <c>logs</c>; empty turns it off).</summary>
internal static class ServerLogging
{
    public static void Configure(LoggerConfiguration logger, IConfiguration configuration, IServiceProvider services)
    {
        logger
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.EntityFrameworkCore", LogEventLevel.Warning)
            .ReadFrom.Configuration(configuration)
            .ReadFrom.Services(services)
            .Enrich.FromLogContext()
            .WriteTo.Console(formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        var directory = configuration["Paperclip:LogDirectory"] ?? "logs";
        if (directory.Length > 0)
        {
            logger.WriteTo.File(
                Path.Combine(directory, "paperclip-.log"),
                rollingInterval: RollingInterval.Day,
                retainedFileCountLimit: 14,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
