using Paperclip.Backend;
using Paperclip.GameHost;
using Paperclip.Server;
using Serilog;

DotEnvFile.Load(Path.Combine(Directory.GetCurrentDirectory(), ".env"));

var builder = WebApplication.CreateBuilder(args);
builder.AddPaperclipBackend();
builder.AddPaperclipGameHost();
builder.Services.AddSerilog((services, logger) => ServerLogging.Configure(logger, builder.Configuration, services));

var app = builder.Build();
app.MapPaperclipApi();
app.Run();

/// <summary>The server's entry point (public for WebApplicationFactory).</summary>
public partial class Program;
