using Paperclip.Demo;

// dotnet run --project src/Paperclip.Demo
using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(2));
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};
try
{
    return await DemoRunner.RunAsync(Console.Out, cancel.Token);
}
catch (Exception e) when (e is not OutOfMemoryException)
{
    await Console.Error.WriteLineAsync($"The demo failed: {e.Message}");
    return 1;
}
