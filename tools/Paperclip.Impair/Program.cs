using System.CommandLine;
using System.Globalization;
using System.Net;

namespace Paperclip.Impair;

/// <summary>
/// <c>paperclip-impair --listen 127.0.0.1:9000 --target 127.0.0.1:27000 --loss 0.3 --burst 3
/// --dup 0.1 --reorder 0.1 --corrupt 0.01 --delay 50 --jitter 20 --seed 1</c>: runs the proxy in
/// front of a server until Ctrl+C, printing its counters.
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        var command = ImpairCommand.Create().Parse(args);
        if (command.Errors.Count == 0)
            return await command.InvokeAsync().ConfigureAwait(false);
        // A wrong command line: what is wrong, without the whole help, and exit code 2.
        foreach (var error in command.Errors)
            await Console.Error.WriteLineAsync(error.Message).ConfigureAwait(false);
        await Console.Error.WriteLineAsync("(--help lists the options.)").ConfigureAwait(false);
        return 2;
    }
}

/// <summary>The proxy's command line, and running the proxy until Ctrl+C.</summary>
public static class ImpairCommand
{
    /// <summary>
    /// The root command. Every impairment option also exists as <c>--up-…</c> (client to
    /// server) and <c>--down-…</c> (server to client), which win over the plain one.
    /// </summary>
    public static RootCommand Create()
    {
        var listen = new Option<IPEndPoint>("--listen")
        {
            Description = "Where clients send",
            HelpName = "HOST:PORT",
            DefaultValueFactory = _ => new IPEndPoint(IPAddress.Loopback, 9000),
            CustomParser = ParseEndPoint,
        };
        var target = new Option<IPEndPoint>("--target") { Description = "The server", HelpName = "HOST:PORT", Required = true, CustomParser = ParseEndPoint };
        var seed = new Option<int>("--seed") { Description = "Seed of the random generators", HelpName = "N", DefaultValueFactory = _ => 1 };
        var stats = new Option<int>("--stats") { Description = "Print the counters every this many seconds (0: only at exit)", HelpName = "SECONDS", DefaultValueFactory = _ => 5 };
        stats.Validators.Add(r => NotNegative(r, r.GetValueOrDefault<int>()));
        var both = new DirectionOptions("", "");
        var up = new DirectionOptions("up-", ", client to server only");
        var down = new DirectionOptions("down-", ", server to client only");

        var command = new RootCommand("A UDP relay that impairs traffic (loss in bursts, duplication, reordering, delay with jitter, corruption, blackholes) with a seeded generator.")
        {
            listen, target, seed, stats,
        };
        both.AddTo(command);
        up.AddTo(command);
        down.AddTo(command);
        command.SetAction((result, cancellationToken) =>
        {
            var common = both.Read(result, DirectionSettings.None);
            var settings = new ImpairmentSettings
            {
                Listen = result.GetRequiredValue(listen),
                Target = result.GetRequiredValue(target),
                Seed = result.GetValue(seed),
                Up = up.Read(result, common),
                Down = down.Read(result, common),
            };
            return RunAsync(settings, TimeSpan.FromSeconds(result.GetValue(stats)), cancellationToken);
        });
        return command;
    }

    // Runs until the token is cancelled (System.CommandLine cancels it on Ctrl+C).
    private static async Task<int> RunAsync(ImpairmentSettings settings, TimeSpan statsInterval, CancellationToken cancellationToken)
    {
        await using var proxy = new ImpairmentProxy(settings);
        Console.WriteLine($"Impairing {proxy.ListenEndPoint} -> {proxy.Target} (seed {settings.Seed}); Ctrl+C to stop");
        Console.WriteLine($"  up:   {Describe(settings.Up)}");
        Console.WriteLine($"  down: {Describe(settings.Down)}");
        try
        {
            while (true)
            {
                await Task.Delay(statsInterval > TimeSpan.Zero ? statsInterval : Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
                PrintStatistics(proxy);
            }
        }
        catch (OperationCanceledException)
        {
        }
        PrintStatistics(proxy);
        return 0;
    }

    private static void PrintStatistics(ImpairmentProxy proxy)
    {
        Console.WriteLine($"up:   {proxy.UpStatistics}");
        Console.WriteLine($"down: {proxy.DownStatistics}");
    }

    private static string Describe(DirectionSettings s)
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"loss {s.Loss} (bursts of {s.BurstLength}), dup {s.Duplicate}, reorder {s.Reorder} (+{s.ReorderDelay.TotalMilliseconds} ms), corrupt {s.Corrupt}, delay {s.Delay.TotalMilliseconds} ± {s.Jitter.TotalMilliseconds} ms");
        return s.BlackholeFor <= TimeSpan.Zero ? text
            : text + string.Create(CultureInfo.InvariantCulture, $", blackhole {s.BlackholeFor.TotalSeconds} s after {s.BlackholeAfter.TotalSeconds} s");
    }

    private static IPEndPoint? ParseEndPoint(System.CommandLine.Parsing.ArgumentResult result)
    {
        var text = result.Tokens[0].Value;
        // IPEndPoint.TryParse reads a missing port as 0 ("1.2.3" as 1.2.0.3:0): the port must be written.
        if (text.LastIndexOf(':') > text.LastIndexOf(']') && IPEndPoint.TryParse(text, out var endPoint))
            return endPoint;
        result.AddError($"'{text}' is not an address HOST:PORT (an IP address, e.g. 127.0.0.1:9000).");
        return null;
    }

    private static void NotNegative(System.CommandLine.Parsing.OptionResult result, double value)
    {
        if (value < 0)
            result.AddError($"{result.Option.Name} must not be negative.");
    }

    /// <summary>The impairment options of one direction (or both), named with a prefix.</summary>
    private sealed class DirectionOptions
    {
        private readonly Option<double?> _loss;
        private readonly Option<int?> _burst;
        private readonly Option<double?> _duplicate;
        private readonly Option<double?> _reorder;
        private readonly Option<double?> _reorderDelay;
        private readonly Option<double?> _corrupt;
        private readonly Option<double?> _delay;
        private readonly Option<double?> _jitter;
        private readonly Option<double?> _blackholeAfter;
        private readonly Option<double?> _blackholeFor;

        public DirectionOptions(string prefix, string scope)
        {
            _loss = Fraction(prefix + "loss", "Fraction lost" + scope);
            _burst = new Option<int?>("--" + prefix + "burst") { Description = "Losses come in bursts of this many (default 1)" + scope, HelpName = "N" };
            _burst.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<int?>() < 1)
                    r.AddError($"{r.Option.Name} must be at least 1.");
            });
            _duplicate = Fraction(prefix + "dup", "Fraction duplicated" + scope);
            _reorder = Fraction(prefix + "reorder", "Fraction held back so that later datagrams overtake them" + scope);
            _reorderDelay = Time(prefix + "reorder-delay", "MS", "How long a reordered datagram is held back (default 30)" + scope);
            _corrupt = Fraction(prefix + "corrupt", "Fraction with one byte changed" + scope);
            _delay = Time(prefix + "delay", "MS", "One-way delay" + scope);
            _jitter = Time(prefix + "jitter", "MS", "± variation of the delay" + scope);
            _blackholeAfter = Time(prefix + "blackhole-after", "SECONDS", "When, after the start, everything is dropped…" + scope);
            _blackholeFor = Time(prefix + "blackhole-for", "SECONDS", "…and for how long" + scope);
        }

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { _loss, _burst, _duplicate, _reorder, _reorderDelay, _corrupt, _delay, _jitter, _blackholeAfter, _blackholeFor })
                command.Options.Add(option);
        }

        /// <summary>The options given, over <paramref name="defaults"/> for those not given.</summary>
        public DirectionSettings Read(ParseResult result, DirectionSettings defaults) => new()
        {
            Loss = result.GetValue(_loss) ?? defaults.Loss,
            BurstLength = result.GetValue(_burst) ?? defaults.BurstLength,
            Duplicate = result.GetValue(_duplicate) ?? defaults.Duplicate,
            Reorder = result.GetValue(_reorder) ?? defaults.Reorder,
            ReorderDelay = Milliseconds(result.GetValue(_reorderDelay)) ?? defaults.ReorderDelay,
            Corrupt = result.GetValue(_corrupt) ?? defaults.Corrupt,
            Delay = Milliseconds(result.GetValue(_delay)) ?? defaults.Delay,
            Jitter = Milliseconds(result.GetValue(_jitter)) ?? defaults.Jitter,
            BlackholeAfter = Seconds(result.GetValue(_blackholeAfter)) ?? defaults.BlackholeAfter,
            BlackholeFor = Seconds(result.GetValue(_blackholeFor)) ?? defaults.BlackholeFor,
        };

        private static TimeSpan? Milliseconds(double? value) => value is { } ms ? TimeSpan.FromMilliseconds(ms) : null;

        private static TimeSpan? Seconds(double? value) => value is { } s ? TimeSpan.FromSeconds(s) : null;

        private static Option<double?> Fraction(string name, string description)
        {
            var option = new Option<double?>("--" + name) { Description = description + " (0 … 1)", HelpName = "P" };
            option.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<double?>() is { } p && !(p >= 0 && p <= 1))
                    r.AddError($"{r.Option.Name} must be within 0 … 1.");
            });
            return option;
        }

        private static Option<double?> Time(string name, string unit, string description)
        {
            var option = new Option<double?>("--" + name) { Description = description, HelpName = unit };
            option.Validators.Add(r => NotNegative(r, r.GetValueOrDefault<double?>() ?? 0));
            return option;
        }
    }
}
