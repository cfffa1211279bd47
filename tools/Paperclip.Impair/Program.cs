using System.Globalization;
using System.Net;

namespace Paperclip.Impair;

/// <summary>
/// <c>paperclip-impair --listen 127.0.0.1:9000 --target 127.0.0.1:40000 --loss 0.3 --burst 3
/// --dup 0.1 --reorder 0.1 --corrupt 0.01 --delay 50 --jitter 20 --seed 1</c>: runs the proxy in
/// front of a server until Ctrl+C, printing its counters. Every impairment option also exists as
/// <c>--up-…</c> (client to server) and <c>--down-…</c> (server to client), which win over the
/// plain one.
/// </summary>
internal static class Program
{
    private const string Usage = """
        Usage: Paperclip.Impair --target HOST:PORT [--listen HOST:PORT] [options]
          --listen A:P           where clients send (default 127.0.0.1:9000)
          --target A:P           the server
          --seed N               seed of the random generators (default 1)
          --stats S              print counters every S seconds (default 5; 0 = only at exit)
        Impairments, for both directions, or one with --up-NAME / --down-NAME:
          --loss P               fraction lost (0 … 1)
          --burst N              losses come in bursts of N (default 1)
          --dup P                fraction duplicated
          --reorder P            fraction held back so later datagrams overtake them
          --reorder-delay MS     how long (default 30)
          --corrupt P            fraction with one byte changed
          --delay MS             one-way delay
          --jitter MS            ± variation of the delay
          --blackhole-after S    seconds after start when everything is dropped …
          --blackhole-for S      … for this many seconds
        """;

    private static async Task<int> Main(string[] args)
    {
        ImpairmentSettings settings;
        int statsSeconds;
        try
        {
            (settings, statsSeconds) = Parse(args);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
            await Console.Error.WriteLineAsync(Usage).ConfigureAwait(false);
            return 2;
        }

        await using var proxy = new ImpairmentProxy(settings);
        Console.WriteLine($"Impairing {proxy.ListenEndPoint} -> {proxy.Target} (seed {settings.Seed}); Ctrl+C to stop");
        Console.WriteLine($"  up:   {Describe(settings.Up)}");
        Console.WriteLine($"  down: {Describe(settings.Down)}");
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        try
        {
            while (true)
            {
                await Task.Delay(statsSeconds > 0 ? TimeSpan.FromSeconds(statsSeconds) : Timeout.InfiniteTimeSpan, stop.Token).ConfigureAwait(false);
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

    /// <summary>Reads the command line (public for tests through <see cref="CommandLine"/>).</summary>
    internal static (ImpairmentSettings Settings, int StatsSeconds) Parse(string[] args) => CommandLine.Parse(args);
}

/// <summary>The command line of the proxy, as settings.</summary>
public static class CommandLine
{
    /// <summary>Reads <paramref name="args"/>; throws <see cref="ArgumentException"/> or <see cref="FormatException"/> on a bad one.</summary>
    public static (ImpairmentSettings Settings, int StatsSeconds) Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Count)
                throw new ArgumentException($"Expected --name value at '{name}'.");
            values[name[2..]] = args[++i];
        }

        string? Take(string name) => values.Remove(name, out var value) ? value : null;
        var listen = IPEndPoint.Parse(Take("listen") ?? "127.0.0.1:9000");
        var target = IPEndPoint.Parse(Take("target") ?? throw new ArgumentException("--target is required."));
        var seed = int.Parse(Take("seed") ?? "1", CultureInfo.InvariantCulture);
        var stats = int.Parse(Take("stats") ?? "5", CultureInfo.InvariantCulture);
        var common = Direction(Take, "");
        var up = Direction(Take, "up-", common);
        var down = Direction(Take, "down-", common);
        if (values.Count > 0)
            throw new ArgumentException($"Unknown option --{values.Keys.First()}.");
        var settings = new ImpairmentSettings { Listen = listen, Target = target, Seed = seed, Up = up, Down = down };
        settings.Up.Validate("up");
        settings.Down.Validate("down");
        return (settings, stats);
    }

    private static DirectionSettings Direction(Func<string, string?> take, string prefix, DirectionSettings? defaults = null)
    {
        var d = defaults ?? DirectionSettings.None;
        double P(string name, double fallback) => take(prefix + name) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
        TimeSpan Ms(string name, TimeSpan fallback) => take(prefix + name) is { } v ? TimeSpan.FromMilliseconds(double.Parse(v, CultureInfo.InvariantCulture)) : fallback;
        TimeSpan S(string name, TimeSpan fallback) => take(prefix + name) is { } v ? TimeSpan.FromSeconds(double.Parse(v, CultureInfo.InvariantCulture)) : fallback;
        return new DirectionSettings
        {
            Loss = P("loss", d.Loss),
            BurstLength = (int)P("burst", d.BurstLength),
            Duplicate = P("dup", d.Duplicate),
            Reorder = P("reorder", d.Reorder),
            ReorderDelay = Ms("reorder-delay", d.ReorderDelay),
            Corrupt = P("corrupt", d.Corrupt),
            Delay = Ms("delay", d.Delay),
            Jitter = Ms("jitter", d.Jitter),
            BlackholeAfter = S("blackhole-after", d.BlackholeAfter),
            BlackholeFor = S("blackhole-for", d.BlackholeFor),
        };
    }
}
