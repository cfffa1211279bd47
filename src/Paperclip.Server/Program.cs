using Microsoft.Extensions.Options;
using Paperclip.Server;

// A bad setting stops the server at start with one line that names its key, not a stack trace.
// (Not a catch around Run: under WebApplicationFactory the exception must reach the factory.)
AppDomain.CurrentDomain.UnhandledException += (_, e) =>
{
    if (e.ExceptionObject is OptionsValidationException invalid)
    {
        Console.Error.WriteLine($"Configuration error: {invalid.Message}");
        Environment.Exit(1);
    }
};
if (args is ["admin", .. var adminArgs])
    return await AdminCommand.RunAsync(adminArgs, Console.Out, Console.Error);
await ServerApplication.Build(args).RunAsync();
return 0;

/// <summary>The server's entry point (public for WebApplicationFactory).</summary>
public partial class Program;
