using System.CommandLine;
using System.Globalization;
using System.Net;

namespace Paperclip.LoadTest;

/// <summary>
/// The harness's command line: one command per scenario with only its own options, and the
/// hidden <c>child</c> command that <see cref="ChildProcess"/> starts for the other half of a run.
/// </summary>
internal static class LoadTestCommand
{
    private const string About = """
        Paperclip load harness — loopback, one machine.

        Messages go client → server; msgs/s are those delivered at the server. throughput runs in one
        process; ccu and handshakes run the clients in a child process so the CPU measured is the server's.
        density runs N servers (each on an OS-chosen port) in a child process of their own and their
        clients in another; every server answers a handshake probe first.
        """;

    // Every command that can run paperclip+metrics takes it; read once the command line is parsed.
    private static readonly Option<double> ScrapeInterval = Number("--scrape-interval",
        "paperclip+metrics: seconds between scrapes of the metrics endpoint, the first 1 s in (a Prometheus server scrapes every 60 s by default, often configured to 15 s)",
        "S", 15.0);

    /// <summary>The commands; <paramref name="args"/> is recorded in the JSON results.</summary>
    public static RootCommand Create(string[] args)
    {
        var commandLine = "Paperclip.LoadTest " + string.Join(' ', args);
        var root = new RootCommand(About);
        ScrapeInterval.Recursive = true;
        root.Options.Add(ScrapeInterval);
        root.Subcommands.Add(Compare(commandLine));
        root.Subcommands.Add(Throughput(commandLine));
        root.Subcommands.Add(Ccu(commandLine));
        root.Subcommands.Add(Handshakes(commandLine));
        root.Subcommands.Add(Density(commandLine));
        root.Subcommands.Add(Child());
        return root;
    }

    private static Command Compare(string commandLine)
    {
        var quick = Switch("--quick", "Short windows, fewer handshakes, no density: about 70 s");
        var metrics = Switch("--metrics", "Adds paperclip+metrics: paperclip while this process exports the Paperclip.Transport meter through OpenTelemetry's Prometheus exporter, scraped every --scrape-interval");
        var repeat = Number<int?>("--repeat", "Alternating repetitions; each cell reports the median (default 1 with --quick, else 3)", "N", null);
        var json = Json();
        var command = new Command("compare", "Every scenario for every implementation, one table with ratios (density: not with --quick)") { quick, repeat, metrics, json };
        command.SetAction((result, cancellationToken) => RunAsync(result, result.GetValue(json), commandLine, async () =>
        {
            var isQuick = result.GetValue(quick);
            var repetitions = result.GetValue(repeat) ?? (isQuick ? 1 : 3);
            var started = DateTime.UtcNow;
            var results = await LoadTest.Compare.RunAsync(isQuick, repetitions, result.GetValue(metrics), cancellationToken).ConfigureAwait(false);
            Console.WriteLine();
            Console.WriteLine(Report.Machine());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"compare{(isQuick ? " --quick" : "")}, {repetitions} repetition(s), {(DateTime.UtcNow - started).TotalSeconds:0} s"));
            Console.Write(Report.Table(results));
            return results;
        }, printTable: false, cancellationToken));
        return command;
    }

    private static Command Throughput(string commandLine)
    {
        var (impl, encrypted) = Implementation();
        var clients = Number("--clients", "Clients sending at once", "N", 1);
        var size = Number("--size", "Message size", "BYTES", 64);
        var reliable = Switch("--reliable", "Reliable messages, ReliableOrdered for Paperclip (channel 0) and LiteNetLib (unreliable without)");
        var loss = Number("--loss", "Puts the impairment proxy between client and server, dropping this fraction each way (0.05: 5 %)", "FRACTION", 0.0);
        var seconds = Number("--seconds", "Measured window", "S", 5.0);
        var warmup = Number("--warmup", "Unmeasured traffic first", "S", 1.0);
        var window = Number<int?>("--window", "Messages in flight per client (the implementation's default without)", "N", null);
        var allocations = AllocationProfile();
        var json = Json();
        var command = new Command("throughput", "Messages/s and bytes allocated per message, clients and server in this process")
        {
            impl, encrypted, clients, size, reliable, loss, seconds, warmup, window, allocations, json,
        };
        command.SetAction((result, cancellationToken) => RunAsync(result, result.GetValue(json), commandLine, async () =>
        {
            var settings = new ThroughputSettings(result.GetValue(clients), result.GetValue(size), result.GetValue(reliable), result.GetValue(seconds), result.GetValue(warmup),
                result.GetValue(window), result.GetValue(allocations), result.GetValue(loss));
            var results = new List<Result>();
            foreach (var spec in Specs(result, impl, encrypted))
                results.Add(Print(await MetricsExport.AroundAsync(spec, () => LoadTest.Throughput.RunAsync(spec, settings, cancellationToken)).ConfigureAwait(false)));
            return results;
        }, printTable: true, cancellationToken));
        return command;
    }

    private static Command Ccu(string commandLine)
    {
        var (impl, encrypted) = Implementation();
        var clients = Number("--clients", "Connected clients", "N", 200);
        var rate = Number("--rate", "Messages each client sends per second", "MSG/S", 20);
        var size = Number("--size", "Message size", "BYTES", 32);
        var reliable = Switch("--reliable", "Reliable messages (unreliable without)");
        var seconds = Number("--seconds", "Measured window", "S", 10.0);
        var warmup = Number("--warmup", "Unmeasured traffic first", "S", 1.0);
        var allocations = AllocationProfile();
        var json = Json();
        var command = new Command("ccu", "Many connected clients at a steady rate: the server's CPU, latency percentiles and loss (clients in a child process)")
        {
            impl, encrypted, clients, rate, size, reliable, seconds, warmup, allocations, json,
        };
        command.SetAction((result, cancellationToken) => RunAsync(result, result.GetValue(json), commandLine, async () =>
        {
            var settings = new CcuSettings(result.GetValue(clients), result.GetValue(rate), result.GetValue(size), result.GetValue(reliable), result.GetValue(seconds), result.GetValue(warmup),
                result.GetValue(allocations));
            var results = new List<Result>();
            foreach (var spec in Specs(result, impl, encrypted))
                results.Add(Print(await MetricsExport.AroundAsync(spec, () => LoadTest.Ccu.RunAsync(spec, settings, cancellationToken)).ConfigureAwait(false)));
            return results;
        }, printTable: true, cancellationToken));
        return command;
    }

    private static Command Handshakes(string commandLine)
    {
        var (impl, encrypted) = Implementation();
        var count = Number("--count", "Handshakes to time", "N", 2000);
        var parallelism = Number("--parallelism", "Handshakes at once", "N", 8);
        var maxSeconds = Number("--max-seconds", "Stop starting handshakes after", "S", 60.0);
        var json = Json();
        var command = new Command("handshakes", "Connects and disconnects as fast as it can: handshakes/s and connect latency (clients in a child process)")
        {
            impl, encrypted, count, parallelism, maxSeconds, json,
        };
        command.SetAction((result, cancellationToken) => RunAsync(result, result.GetValue(json), commandLine, async () =>
        {
            var settings = new HandshakeSettings(result.GetValue(count), result.GetValue(parallelism), result.GetValue(maxSeconds));
            var results = new List<Result>();
            foreach (var spec in Specs(result, impl, encrypted))
                results.Add(Print(await MetricsExport.AroundAsync(spec, () => LoadTest.Handshakes.RunAsync(spec, settings, cancellationToken)).ConfigureAwait(false)));
            return results;
        }, printTable: true, cancellationToken));
        return command;
    }

    private static Command Density(string commandLine)
    {
        var servers = Number("--servers", "Servers in the servers' process", "N", 0);
        var (impl, encrypted) = Implementation();
        var perServer = Number("--clients-per-server", "Clients connected to every server", "N", 0);
        var rate = Number("--rate", "Messages each client sends per second (0: idle sessions, heartbeats only)", "MSG/S", 20);
        var size = Number("--size", "Message size", "BYTES", 32);
        var reliable = Switch("--reliable", "Reliable messages (unreliable without)");
        var seconds = Number("--seconds", "Measured window", "S", 10.0);
        var warmup = Number("--warmup", "Unmeasured time first", "S", 2.0);
        var parallelism = Number("--parallelism", "Clients connecting at once (and accounts)", "N", 8);
        var compareSingle = Switch("--compare-single", "Also measure the same clients on one server and print the CPU ratio");
        var serverThreads = Number<int?>("--server-io-threads", "PAPERCLIP_IO_THREADS for the servers' process only (the clients' keeps the default)", "N", null);
        var json = Json();
        var command = new Command("density", "Many servers in one process, with or without clients: the servers' CPU, threads and memory")
        {
            servers, impl, encrypted, perServer, rate, size, reliable, seconds, warmup, parallelism, compareSingle, serverThreads, json,
        };
        command.SetAction((result, cancellationToken) => RunAsync(result, result.GetValue(json), commandLine, async () =>
        {
            var settings = new DensitySettings(result.GetValue(servers), result.GetValue(perServer), result.GetValue(rate), result.GetValue(size), result.GetValue(reliable),
                result.GetValue(seconds), result.GetValue(warmup), result.GetValue(parallelism), result.GetValue(compareSingle), result.GetValue(serverThreads));
            var results = new List<Result>();
            foreach (var spec in Specs(result, impl, encrypted))
            {
                foreach (var measured in await LoadTest.Density.RunAsync(spec, settings, cancellationToken).ConfigureAwait(false))
                    results.Add(Print(measured));
            }
            return results;
        }, printTable: true, cancellationToken));
        return command;
    }

    /// <summary>The other half of a run, started by the harness itself: its protocol is the READY/SENT/RESULT lines on stdout.</summary>
    private static Command Child()
    {
        var mode = new Option<string>("--mode") { Required = true };
        mode.AcceptOnlyFromAmong("ccu", "handshakes", "density-servers", "density-clients");
        var impl = new Option<string>("--impl") { Required = true };
        var server = new Option<string>("--server");
        var keys = new Option<string>("--keys");
        var clients = Number("--clients", "", "N", 200);
        var rate = Number("--rate", "", "N", 20);
        var size = Number("--size", "", "N", 32);
        var reliable = Switch("--reliable", "");
        var seconds = Number("--seconds", "", "S", 5.0);
        var count = Number("--count", "", "N", 2000);
        var parallelism = Number("--parallelism", "", "N", 8);
        var maxSeconds = Number("--max-seconds", "", "S", 60.0);
        var servers = Number("--servers", "", "N", 1);
        var maxClients = Number("--max-clients", "", "N", 8);
        var connections = Number("--connections", "", "N", 0);
        var warmup = Number("--warmup", "", "S", 2.0);
        var endpointsOut = new Option<string>("--endpoints-out");
        var keysOut = new Option<string>("--keys-out");
        var endpoints = new Option<string>("--endpoints");
        var perServer = Number("--clients-per-server", "", "N", 0);
        var command = new Command("child", "The clients' or servers' process of a run (started by the harness)")
        {
            mode, impl, server, keys, clients, rate, size, reliable, seconds, count, parallelism, maxSeconds, servers, maxClients, connections, warmup,
            endpointsOut, keysOut, endpoints, perServer,
        };
        command.Hidden = true;
        command.SetAction(async (result, _) =>
        {
            try
            {
                var spec = ImplSpec.Parse(result.GetValue(impl)!);
                using var pki = result.GetValue(keys) is { } keyFile ? Pki.Load(keyFile) : null;
                switch (result.GetValue(mode))
                {
                    case "ccu":
                        await LoadTest.Ccu.RunClientsAsync(spec, Server(), pki, result.GetValue(clients), result.GetValue(rate), result.GetValue(size), result.GetValue(reliable),
                            result.GetValue(seconds)).ConfigureAwait(false);
                        break;
                    case "handshakes":
                        await LoadTest.Handshakes.RunClientsAsync(spec, Server(), pki, result.GetValue(count), result.GetValue(parallelism), result.GetValue(maxSeconds)).ConfigureAwait(false);
                        break;
                    case "density-servers":
                        await LoadTest.Density.RunServersAsync(spec, result.GetValue(servers), result.GetValue(maxClients), result.GetValue(connections), result.GetValue(parallelism),
                            result.GetValue(warmup), result.GetValue(seconds), Required(endpointsOut), result.GetValue(keysOut)).ConfigureAwait(false);
                        break;
                    default:
                        await LoadTest.Density.RunClientsAsync(spec, pki, Required(endpoints), result.GetValue(perServer), result.GetValue(rate), result.GetValue(size), result.GetValue(reliable),
                            result.GetValue(parallelism), result.GetValue(maxSeconds)).ConfigureAwait(false);
                        break;
                }

                return 0;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Console.WriteLine("ERROR " + e.GetType().Name + ": " + e.Message.ReplaceLineEndings(" "));
                Console.Error.WriteLine(e);
                return 1;
            }

            IPEndPoint Server() => IPEndPoint.Parse(Required(server));

            string Required(Option<string> option) => result.GetValue(option) ?? throw new ArgumentException($"{option.Name} is required with --mode {result.GetValue(mode)}.");
        });
        return command;
    }

    // Runs a scenario: its figures, the combined table when there are several, the JSON file.
    private static async Task<int> RunAsync(ParseResult parsed, string? json, string commandLine, Func<Task<List<Result>>> run, bool printTable, CancellationToken cancellationToken)
    {
        MetricsExport.ScrapeInterval = TimeSpan.FromSeconds(parsed.GetValue(ScrapeInterval));
        try
        {
            var results = await run().ConfigureAwait(false);
            if (printTable && results.Count > 1)
                Console.Write(Report.Table(results));
            if (json is not null)
            {
                Report.WriteJson(json, results, commandLine);
                Console.WriteLine($"wrote {json}");
            }

            return 0;
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Console.Error.WriteLine("cancelled");
            return 130;
        }
    }

    private static Result Print(Result result)
    {
        Console.WriteLine(Report.Line(result));
        return result;
    }

    private static (Option<string> Impl, Option<string> Encrypted) Implementation()
    {
        var impl = new Option<string>("--impl")
        {
            Description = "paperclip (sealed, the default policy) | paperclip+metrics (the same, exporting its metrics) | paperclip-plain | litenetlib | raw | raw-engine (raw datagrams on Paperclip's I/O engine, no protocol) | all",
            HelpName = "I",
            DefaultValueFactory = _ => "paperclip",
        };
        impl.AcceptOnlyFromAmong("paperclip", "paperclip+metrics", "paperclip-plain", "litenetlib", "raw", "raw-engine", "all");
        var encrypted = new Option<string>("--encrypted") { Description = "Whether paperclip seals its packets", HelpName = "on|off", DefaultValueFactory = _ => "on" };
        encrypted.AcceptOnlyFromAmong("on", "off");
        return (impl, encrypted);
    }

    private static ImplSpec[] Specs(ParseResult result, Option<string> impl, Option<string> encrypted)
    {
        var name = result.GetValue(impl)!;
        var sealedPackets = result.GetValue(encrypted) == "on";
        if (name == "all")
            return [new(ImplKind.Paperclip, sealedPackets), new(ImplKind.LiteNetLib, false), new(ImplKind.Raw, false)];
        var spec = ImplSpec.Parse(name);
        return [spec.Kind == ImplKind.Paperclip ? spec with { Encrypted = spec.Encrypted && sealedPackets } : spec];
    }

    private static Option<bool> AllocationProfile() =>
        Switch("--alloc-profile", "Print the types allocated in the window, from GC AllocationTick samples");

    private static Option<string> Json() => new("--json") { Description = "Write {\"results\":[…]} with every measured figure", HelpName = "PATH" };

    private static Option<T> Number<T>(string name, string description, string helpName, T fallback) =>
        new(name) { Description = description, HelpName = helpName, DefaultValueFactory = _ => fallback };

    /// <summary>A switch: on when given (<c>--reliable</c>; <c>--reliable false</c> too, as the child processes are passed it).</summary>
    private static Option<bool> Switch(string name, string description) => new(name) { Description = description };

}
