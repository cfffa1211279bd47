using Paperclip.LoadTest;

// The loopback load harness (issue 6). Run it in Release:
//   dotnet run -c Release --project bench/Paperclip.LoadTest -- compare --quick [--json results.json]
// `--help` on any command lists its options; docs/performance.md explains the scenarios.
#if DEBUG
if (args is not [ "child", .. ])
    Console.Error.WriteLine("warning: a Debug build; figures are only meaningful with -c Release.");
#endif

var parsed = LoadTestCommand.Create(args).Parse(args);
if (parsed.Errors.Count > 0)
{
    // A wrong command line: what is wrong, without the whole help, and exit code 2.
    foreach (var error in parsed.Errors)
        Console.Error.WriteLine(error.Message);
    Console.Error.WriteLine("(--help lists the commands and their options.)");
    return 2;
}

return await parsed.InvokeAsync().ConfigureAwait(false);
