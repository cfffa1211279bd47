using System.CommandLine;

namespace Paperclip.Soak;

/// <summary><c>dotnet run -c Release --project tools/Paperclip.Soak -- --clients 500 --minutes 10</c></summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        var command = SoakCommand.Create().Parse(args);
        if (command.Errors.Count == 0)
            return await command.InvokeAsync().ConfigureAwait(false);
        // A wrong command line: what is wrong, without the whole help, and exit code 2.
        foreach (var error in command.Errors)
            await Console.Error.WriteLineAsync(error.Message).ConfigureAwait(false);
        await Console.Error.WriteLineAsync("(--help lists the options.)").ConfigureAwait(false);
        return 2;
    }
}

/// <summary>The soak run's command line: every option a <see cref="SoakOptions"/> property, with its default.</summary>
internal static class SoakCommand
{
    public static RootCommand Create()
    {
        var defaults = new SoakOptions();
        var clients = new Option<int>("--clients") { Description = "Clients connected at any time", HelpName = "N", DefaultValueFactory = _ => defaults.Clients };
        var minutes = new Option<double?>("--minutes") { Description = $"How long the traffic runs (default {defaults.Duration.TotalMinutes:0.#})", HelpName = "M" };
        var seconds = new Option<double?>("--seconds") { Description = "How long the traffic runs, in seconds (instead of --minutes)", HelpName = "S" };
        var rate = new Option<double>("--rate") { Description = "Messages each client sends per second, each way", HelpName = "MSG/S", DefaultValueFactory = _ => defaults.MessagesPerSecond };
        var churn = new Option<double>("--churn") { Description = "Fraction of the clients replaced each second", HelpName = "FRACTION/S", DefaultValueFactory = _ => defaults.ChurnPerSecond };
        var maxSize = new Option<int>("--max-size") { Description = "Largest message", HelpName = "BYTES", DefaultValueFactory = _ => defaults.MaxMessageSize };
        var seed = new Option<int>("--seed") { Description = "Seed of the traffic's random choices", HelpName = "N", DefaultValueFactory = _ => defaults.Seed };
        clients.Validators.Add(r => Positive(r, r.GetValueOrDefault<int>()));
        minutes.Validators.Add(r => Positive(r, r.GetValueOrDefault<double?>() ?? 1));
        seconds.Validators.Add(r => Positive(r, r.GetValueOrDefault<double?>() ?? 1));
        rate.Validators.Add(r => Positive(r, r.GetValueOrDefault<double>()));
        maxSize.Validators.Add(r => Positive(r, r.GetValueOrDefault<int>()));
        churn.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is not (>= 0 and <= 1))
                r.AddError("--churn must be within 0 … 1.");
        });

        var command = new RootCommand("Soak test of the transport: many clients connecting, leaving and exchanging reliable and unreliable messages with one server; checks memory, session leaks and errors.")
        {
            clients, minutes, seconds, rate, churn, maxSize, seed,
        };
        command.Validators.Add(r =>
        {
            if (r.GetResult(minutes) is not null && r.GetResult(seconds) is not null)
                r.AddError("Give the duration once: --minutes or --seconds.");
        });
        command.SetAction(async (result, cancellationToken) =>
        {
            var options = new SoakOptions
            {
                Clients = result.GetValue(clients),
                Duration = result.GetValue(seconds) is { } s ? TimeSpan.FromSeconds(s) : result.GetValue(minutes) is { } m ? TimeSpan.FromMinutes(m) : defaults.Duration,
                MessagesPerSecond = result.GetValue(rate),
                ChurnPerSecond = result.GetValue(churn),
                MaxMessageSize = result.GetValue(maxSize),
                Seed = result.GetValue(seed),
                Progress = line => Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}"),
            };
            Console.WriteLine($"Soak: {options.Clients} clients for {options.Duration}, {options.MessagesPerSecond} messages/s per client each way, churn {options.ChurnPerSecond:P0}/s");
            // Ctrl+C or SIGTERM cancels the token, which stops the run.
            var soak = await new SoakRunner(options).RunAsync(cancellationToken).ConfigureAwait(false);
            Console.WriteLine(soak);
            return soak.Problems.Count == 0 ? 0 : 1;
        });
        return command;
    }

    private static void Positive(System.CommandLine.Parsing.OptionResult result, double value)
    {
        if (!(value > 0))
            result.AddError($"{result.Option.Name} must be greater than 0.");
    }
}
