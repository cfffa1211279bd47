using System.Globalization;

namespace Paperclip.Soak;

/// <summary><c>dotnet run -c Release --project tools/Paperclip.Soak -- --clients 500 --minutes 10</c></summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        var options = new SoakOptions { Progress = line => Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}") };
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = args[i + 1];
            options = args[i] switch
            {
                "--clients" => options with { Clients = int.Parse(value, CultureInfo.InvariantCulture) },
                "--minutes" => options with { Duration = TimeSpan.FromMinutes(double.Parse(value, CultureInfo.InvariantCulture)) },
                "--seconds" => options with { Duration = TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture)) },
                "--rate" => options with { MessagesPerSecond = double.Parse(value, CultureInfo.InvariantCulture) },
                "--churn" => options with { ChurnPerSecond = double.Parse(value, CultureInfo.InvariantCulture) },
                "--max-size" => options with { MaxMessageSize = int.Parse(value, CultureInfo.InvariantCulture) },
                "--seed" => options with { Seed = int.Parse(value, CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException($"Unknown option {args[i]}. Options: --clients N --minutes M | --seconds S --rate MSG/S --churn FRACTION/S --max-size BYTES --seed N"),
            };
        }
        Console.WriteLine($"Soak: {options.Clients} clients for {options.Duration}, {options.MessagesPerSecond} messages/s per client each way, churn {options.ChurnPerSecond:P0}/s");
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        var result = await new SoakRunner(options).RunAsync(cancel.Token).ConfigureAwait(false);
        Console.WriteLine(result);
        return result.Problems.Count == 0 ? 0 : 1;
    }
}
