using System.Globalization;
using System.Net;
using Paperclip.LoadTest;

// The loopback load harness (issue 6). Run it in Release:
//   dotnet run -c Release --project bench/Paperclip.LoadTest -- compare --quick [--json results.json]
// See Usage below and docs/performance.md.
const string Usage = """
    Paperclip load harness — loopback, one machine.

      throughput  --impl I [--clients 1] [--size 64] [--reliable] [--loss 0] [--encrypted on|off] [--seconds 5] [--warmup 1] [--window N]
      ccu         --impl I [--clients 200] [--rate 20] [--size 32] [--reliable] [--seconds 10] [--warmup 1]
      handshakes  --impl I [--count 2000] [--parallelism 8] [--max-seconds 60]
      density     --servers N [--impl I] [--clients-per-server 0] [--rate 20] [--size 32] [--reliable] [--seconds 10] [--warmup 2]
                  [--parallelism 8] [--compare-single]
      compare     [--quick] [--repeat N]      every scenario for every implementation, one table with ratios (density: not with --quick)

      --impl paperclip | paperclip-plain | litenetlib | raw | all      (paperclip = encrypted, the default policy)
      --json PATH       writes {"results":[…]} with every measured figure
      --alloc-profile   (throughput, ccu) prints the types allocated in the window, from GC AllocationTick samples

    Messages go client → server; msgs/s are those delivered at the server. Reliable is ReliableOrdered
    for both Paperclip (channel 0) and LiteNetLib; --loss 0.05 puts the impairment proxy between them,
    dropping 5 % each way. throughput runs in one
    process; ccu and handshakes run the clients in a child process so the CPU measured is the server's.
    density runs N servers (each on an OS-chosen port) in a child process of their own and their
    clients in another; every server answers a handshake probe first; --rate 0 = idle sessions;
    --compare-single also measures the same clients on one server and prints the CPU ratio.
    """;

Args options;
try
{
    options = new Args(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

#if DEBUG
if (options.Verb != "child")
    Console.Error.WriteLine("warning: a Debug build; figures are only meaningful with -c Release.");
#endif

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

try
{
    if (options.Verb == "child")
        return await RunChildAsync(options).ConfigureAwait(false);

    var json = options.String("json");
    var results = new List<Result>();
    switch (options.Verb)
    {
        case "compare":
        {
            var quick = options.Flag("quick");
            var repeat = options.Int("repeat", quick ? 1 : 3);
            options.RejectUnknown();
            var started = DateTime.UtcNow;
            results = await Compare.RunAsync(quick, repeat, cancel.Token).ConfigureAwait(false);
            Console.WriteLine();
            Console.WriteLine(Report.Machine());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"compare{(quick ? " --quick" : "")}, {repeat} repetition(s), {(DateTime.UtcNow - started).TotalSeconds:0} s"));
            Console.Write(Report.Table(results));
            break;
        }
        case "throughput":
        {
            var impls = Impls(options);
            var settings = new ThroughputSettings(options.Int("clients", 1), options.Int("size", 64), options.Flag("reliable"), options.Double("seconds", 5), options.Double("warmup", 1),
                options.String("window") is { } w ? int.Parse(w, CultureInfo.InvariantCulture) : null, options.Flag("alloc-profile"), options.Double("loss", 0));
            options.RejectUnknown();
            foreach (var spec in impls)
                results.Add(Print(await Throughput.RunAsync(spec, settings, cancel.Token).ConfigureAwait(false)));
            break;
        }
        case "ccu":
        {
            var impls = Impls(options);
            var settings = new CcuSettings(options.Int("clients", 200), options.Int("rate", 20), options.Int("size", 32), options.Flag("reliable"), options.Double("seconds", 10), options.Double("warmup", 1), options.Flag("alloc-profile"));
            options.RejectUnknown();
            foreach (var spec in impls)
                results.Add(Print(await Ccu.RunAsync(spec, settings, cancel.Token).ConfigureAwait(false)));
            break;
        }
        case "density":
        {
            var impls = Impls(options);
            var settings = new DensitySettings(options.Int("servers", 0), options.Int("clients-per-server", 0), options.Int("rate", 20), options.Int("size", 32), options.Flag("reliable"),
                options.Double("seconds", 10), options.Double("warmup", 2), options.Int("parallelism", 8), options.Flag("compare-single"));
            options.RejectUnknown();
            foreach (var spec in impls)
            {
                foreach (var result in await Density.RunAsync(spec, settings, cancel.Token).ConfigureAwait(false))
                    results.Add(Print(result));
            }
            break;
        }
        case "handshakes":
        {
            var impls = Impls(options);
            var settings = new HandshakeSettings(options.Int("count", 2000), options.Int("parallelism", 8), options.Double("max-seconds", 60));
            options.RejectUnknown();
            foreach (var spec in impls)
                results.Add(Print(await Handshakes.RunAsync(spec, settings, cancel.Token).ConfigureAwait(false)));
            break;
        }
        default:
            Console.WriteLine(Usage);
            return options.Verb == "help" ? 0 : 2;
    }
    if (results.Count > 1 && options.Verb != "compare")
        Console.Write(Report.Table(results));
    if (json is not null)
    {
        Report.WriteJson(json, results, "Paperclip.LoadTest " + string.Join(' ', args));
        Console.WriteLine($"wrote {json}");
    }
    return 0;
}
catch (Exception e) when (e is ArgumentException or NotSupportedException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("cancelled");
    return 130;
}

static Result Print(Result result)
{
    Console.WriteLine(Report.Line(result));
    return result;
}

static ImplSpec[] Impls(Args args)
{
    var name = args.String("impl", "paperclip")!;
    var encrypted = args.OnOff("encrypted", true);
    if (name == "all")
        return [new(ImplKind.Paperclip, encrypted), new(ImplKind.LiteNetLib, false), new(ImplKind.Raw, false)];
    var spec = ImplSpec.Parse(name);
    return [spec.Kind == ImplKind.Paperclip ? spec with { Encrypted = spec.Encrypted && encrypted } : spec];
}

static async Task<int> RunChildAsync(Args args)
{
    try
    {
        var spec = ImplSpec.Parse(args.String("impl") ?? throw new ArgumentException("--impl is required."));
        using var pki = args.String("keys") is { } keys ? Pki.Load(keys) : null;
        switch (args.String("mode"))
        {
            case "ccu":
                await Ccu.RunClientsAsync(spec, Server(args), pki, args).ConfigureAwait(false);
                return 0;
            case "handshakes":
                await Handshakes.RunClientsAsync(spec, Server(args), pki, args).ConfigureAwait(false);
                return 0;
            case "density-servers":
                await Density.RunServersAsync(spec, args).ConfigureAwait(false);
                return 0;
            case "density-clients":
                await Density.RunClientsAsync(spec, pki, args).ConfigureAwait(false);
                return 0;
            default:
                throw new ArgumentException("--mode ccu|handshakes|density-servers|density-clients is required.");
        }
    }
    catch (Exception e) when (e is not OutOfMemoryException)
    {
        Console.WriteLine("ERROR " + e.GetType().Name + ": " + e.Message.ReplaceLineEndings(" "));
        Console.Error.WriteLine(e);
        return 1;
    }

    static IPEndPoint Server(Args args) => IPEndPoint.Parse(args.String("server") ?? throw new ArgumentException("--server is required."));
}
