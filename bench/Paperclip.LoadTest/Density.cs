using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Paperclip.LoadTest;

internal sealed record DensitySettings(int Servers, int ClientsPerServer, int Rate, int Size, bool Reliable, double Seconds, double Warmup, int Parallelism, bool CompareSingle, int? ServerIoThreads = null);

/// <summary>
/// Many servers in one process, as the backend runs lobbies: <c>servers</c> servers, each bound to
/// its own OS-chosen port, in a child process of their own, so that process's CPU, threads and RSS
/// are the servers' alone (no key generation, no clients, no results), and
/// <c>clients-per-server</c> clients per server in a second child, sending as ccu's clients do.
/// Before the window every server must have answered one real handshake: a probe (connect,
/// dispose) when there are no clients, else its clients' connects. With <c>compare-single</c> the
/// same number of clients then go to one server, in fresh processes, for the ratio of server CPU.
/// </summary>
internal static class Density
{
    // Descriptors a process holds besides the sockets under test: the runtime, stdio pipes, libraries.
    private const int ReservedFiles = 256;

    public static async Task<List<Result>> RunAsync(ImplSpec spec, DensitySettings settings, CancellationToken cancellationToken)
    {
        if (settings.Servers < 1)
            throw new ArgumentException("density needs --servers N (at least 1).");
        if (settings.ClientsPerServer < 0 || settings.Rate < 0 || settings.Parallelism < 1)
            throw new ArgumentException("--clients-per-server and --rate must be at least 0, --parallelism at least 1.");
        if (settings.Size < Payload.HeaderSize)
            throw new ArgumentException($"--size must be at least {Payload.HeaderSize} (the timestamp header).");
        if (settings.Reliable && !spec.SupportsReliable)
            throw new NotSupportedException($"{spec.Name} has no reliable delivery.");
        if (settings.CompareSingle && settings.ClientsPerServer == 0)
            throw new ArgumentException("--compare-single needs clients (--clients-per-server 1 or more).");
        var clients = (long)settings.Servers * settings.ClientsPerServer;
        var clientSockets = Math.Max(clients, settings.Parallelism); // probes hold one socket per worker
        Limits.RequireOpenFiles(settings.Servers + ReservedFiles, "servers'");
        Limits.RequireOpenFiles(clientSockets + ReservedFiles, "clients'");
        Limits.RequireEphemeralPorts(settings.Servers + clientSockets);

        var many = await MeasureAsync(spec, settings.Servers, settings.ClientsPerServer, settings, cancellationToken).ConfigureAwait(false);
        if (!settings.CompareSingle)
            return [many];
        var single = await MeasureAsync(spec, 1, (int)clients, settings, cancellationToken).ConfigureAwait(false);
        var ratio = many.ServerCpuPct / single.ServerCpuPct;
        // The note carries the ratio into the printed line and the JSON.
        return [many with { Note = string.Create(CultureInfo.InvariantCulture, $"server CPU {ratio:0.00}× that of one server with the same {clients} clients") }, single];
    }

    /// <summary>One measurement: a servers' process, a clients' process, one window.</summary>
    private static async Task<Result> MeasureAsync(ImplSpec spec, int servers, int clientsPerServer, DensitySettings settings, CancellationToken cancellationToken)
    {
        var connections = servers * clientsPerServer;
        var files = Path.Combine(Path.GetTempPath(), $"paperclip-load-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var keys = spec.Kind == ImplKind.Paperclip ? files + ".keys" : null;
        var endpoints = files + ".endpoints";
        try
        {
            List<string> serverArguments =
            [
                "--impl", spec.Name, "--mode", "density-servers", "--servers", Ccu.Invariant(servers), "--max-clients", Ccu.Invariant(clientsPerServer + 8),
                "--connections", Ccu.Invariant(connections), "--parallelism", Ccu.Invariant(settings.Parallelism),
                "--warmup", Ccu.Invariant(settings.Warmup), "--seconds", Ccu.Invariant(settings.Seconds), "--endpoints-out", endpoints,
            ];
            if (keys is not null)
                serverArguments.AddRange(["--keys-out", keys]);
            // The servers' loop count apart from the clients': PAPERCLIP_IO_THREADS would set both.
            var serverEnvironment = settings.ServerIoThreads is { } threads
                ? new Dictionary<string, string> { ["PAPERCLIP_IO_THREADS"] = Ccu.Invariant(threads) }
                : null;
            using var serverProcess = ChildProcess.Start(serverArguments, "servers", serverEnvironment);
            // Generous bounds: today's engine starts three threads per server and slows as they add up.
            var bindSeconds = double.Parse(serverProcess.WaitFor("BOUND", TimeSpan.FromSeconds(120 + servers / 10.0)), CultureInfo.InvariantCulture);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {servers} {spec.Name} server(s) bound in {bindSeconds:0.00} s"));
            cancellationToken.ThrowIfCancellationRequested();

            List<string> clientArguments =
            [
                "--impl", spec.Name, "--mode", "density-clients", "--endpoints", endpoints, "--clients-per-server", Ccu.Invariant(clientsPerServer),
                "--rate", Ccu.Invariant(settings.Rate), "--size", Ccu.Invariant(settings.Size), "--reliable", settings.Reliable ? "true" : "false",
                "--parallelism", Ccu.Invariant(settings.Parallelism), "--max-seconds", Ccu.Invariant(settings.Warmup + settings.Seconds + 120),
            ];
            if (keys is not null)
                clientArguments.AddRange(["--keys", keys]);
            using var clientProcess = ChildProcess.Start(clientArguments);
            var probeSeconds = double.Parse(clientProcess.WaitFor("READY", TimeSpan.FromSeconds(120 + Math.Max(servers, connections) / 10.0)), CultureInfo.InvariantCulture);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  every server answered a handshake ({(connections == 0 ? $"{servers} probes" : $"{connections} clients connected")}) in {probeSeconds:0.00} s"));
            if (connections == 0)
                await clientProcess.WaitForExitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false); // the probes are done: nothing else runs in the window
            cancellationToken.ThrowIfCancellationRequested();

            serverProcess.Tell("MEASURE");
            serverProcess.WaitFor("MEASURED", TimeSpan.FromSeconds(settings.Warmup + settings.Seconds + 60));
            long sent = 0;
            if (connections > 0)
            {
                clientProcess.Tell("STOP");
                sent = long.Parse(clientProcess.WaitFor("SENT", TimeSpan.FromSeconds(60)), CultureInfo.InvariantCulture);
            }
            serverProcess.Tell(string.Create(CultureInfo.InvariantCulture, $"DONE {sent}"));
            var window = JsonSerializer.Deserialize<ServerWindow>(serverProcess.WaitFor("RESULT", TimeSpan.FromSeconds(30)))
                ?? throw new InvalidOperationException("The servers process reported no window.");
            await clientProcess.WaitForExitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            await serverProcess.WaitForExitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);

            return new Result
            {
                Scenario = "density",
                Impl = spec.Name,
                Size = settings.Size,
                Reliable = settings.Reliable,
                Encrypted = spec.Encrypted,
                Servers = servers,
                Clients = connections,
                Rate = connections == 0 ? 0 : settings.Rate,
                MsgsPerS = window.MsgsPerS,
                MbPerS = window.MsgsPerS * settings.Size / 1e6,
                LossPct = sent == 0 ? 0 : Math.Max(0, 100.0 * (sent - window.Received) / sent),
                P50Us = window.P50Us,
                P99Us = window.P99Us,
                ServerCpuPct = window.CpuPct,
                AllocBytesPerMsg = window.AllocBytesPerMsg,
                Threads = window.Threads,
                RssMb = window.RssMb,
                BindS = bindSeconds,
                ProbeS = probeSeconds,
                Note = window.Connected < connections ? $"only {window.Connected} of {connections} clients connected at the servers" : null,
            };
        }
        finally
        {
            File.Delete(endpoints);
            if (keys is not null)
                File.Delete(keys);
        }
    }

    /// <summary>What the servers' process measured over its window (sent to the harness as JSON).</summary>
    internal sealed record ServerWindow(double CpuPct, double MsgsPerS, double? P50Us, double? P99Us, double? AllocBytesPerMsg, int Threads, double RssMb, int Connected, long Received);

    /// <summary>
    /// The servers' process: binds every server, writes their endpoints, says BOUND seconds; on
    /// MEASURE waits for the clients to be counted, warms up, measures the window, says MEASURED;
    /// on DONE sent waits briefly for the last messages and says RESULT {json}.
    /// </summary>
    /// <remarks>
    /// Everything up to the disposal runs on the main thread and blocks (Sleep, ReadLine): a thread
    /// pool thread held here would make the pool add threads, and the thread count is measured.
    /// Servers bind as many at a time as there are cores (binding is CPU work) for the same reason.
    /// </remarks>
    public static async Task RunServersAsync(ImplSpec spec, int count, int maxClients, int connections, int accounts, double warmup, double seconds, string endpointsPath, string? keysPath)
    {
        // One account per connecting worker of the clients' process (see ConnectEachAsync).
        using var pki = keysPath is null ? null : Pki.Create(accounts);
        pki?.Save(keysPath!);
        var impl = Impls.Create(spec, pki);
        using var sink = new Sink();
        var servers = new ILoadServer?[count];
        try
        {
            var begin = Stopwatch.GetTimestamp();
            try
            {
                var bound = 0;
                var step = Math.Max(100, count / 10);
                Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
                {
                    servers[i] = impl.StartServer(sink, maxClients);
                    if (Interlocked.Increment(ref bound) % step == 0)
                        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{bound} of {count} servers bound, {Stopwatch.GetElapsedTime(begin).TotalSeconds:0.0} s"));
                });
            }
            catch (AggregateException e)
            {
                var first = e.InnerExceptions[0];
                throw new InvalidOperationException($"{servers.Count(s => s is not null)} of {count} servers bound, then {first.GetType().Name}: {first.Message}", first);
            }
            var bindSeconds = Stopwatch.GetElapsedTime(begin).TotalSeconds;
            File.WriteAllLines(endpointsPath, servers.Select(s => s!.EndPoint.ToString()));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"BOUND {bindSeconds:R}"));

            Expect("MEASURE");
            // A client counts at its server once the client's Finished arrives, a moment after its connect.
            for (var i = 0; i < 500 && Connected(servers) < connections; i++)
                Thread.Sleep(10);
            var connected = Connected(servers);
            Thread.Sleep(TimeSpan.FromSeconds(warmup));
            var start = Snapshot.Take(sink.Received, 0);
            sink.StartRecording();
            Thread.Sleep(TimeSpan.FromSeconds(seconds));
            var end = Snapshot.Take(sink.Received, 0);
            sink.StopRecording();
            var footprint = ProcessFootprint.Take();
            Console.WriteLine("MEASURED");

            var sent = long.Parse(Expect("DONE"), CultureInfo.InvariantCulture);
            sink.WaitForReceived(sent, 500);
            var delivered = end.Received - start.Received;
            var window = new ServerWindow(Snapshot.CpuPercent(start, end), delivered / Snapshot.Seconds(start, end), sink.Latency.Percentile(0.50), sink.Latency.Percentile(0.99),
                delivered == 0 ? null : (double)(end.AllocatedBytes - start.AllocatedBytes) / delivered, footprint.Threads, footprint.RssMb, connected, sink.Received);
            Console.WriteLine("RESULT " + JsonSerializer.Serialize(window));
        }
        finally
        {
            await Parallel.ForEachAsync(servers.OfType<ILoadServer>(), new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount * 4 },
                (server, _) => server.DisposeAsync()).ConfigureAwait(false);
        }

        static int Connected(ILoadServer?[] servers) => servers.Sum(s => s!.Connected);

        static string Expect(string command)
        {
            var line = Console.In.ReadLine() ?? throw new InvalidOperationException($"The harness closed stdin before {command}.");
            return line.StartsWith(command, StringComparison.Ordinal) ? line[command.Length..].Trim() : throw new InvalidOperationException($"Expected {command}, got '{line}'.");
        }
    }

    /// <summary>
    /// The clients' process: with clients-per-server 0 probes every server once (connect, dispose),
    /// says READY seconds and exits; otherwise connects that many clients to every server, says
    /// READY seconds, sends on ccu's schedule until STOP (or max-seconds), says SENT n.
    /// </summary>
    public static async Task RunClientsAsync(ImplSpec spec, Pki? pki, string endpointsPath, int perServer, int rate, int size, bool reliable, int parallelism, double maxSeconds)
    {
        var endpoints = File.ReadAllLines(endpointsPath).Select(IPEndPoint.Parse).ToArray();
        var impl = Impls.Create(spec, pki);
        var manual = spec.Kind == ImplKind.LiteNetLib; // one thread pumps every LiteNetLib client, as in ccu
        var begin = Stopwatch.GetTimestamp();
        if (perServer == 0)
        {
            await ConnectEachAsync(impl, endpoints.Length, i => endpoints[i], parallelism, manual, (_, client) => client.DisposeAsync()).ConfigureAwait(false);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"READY {Stopwatch.GetElapsedTime(begin).TotalSeconds:R}"));
            return;
        }

        // Client i goes to server i mod N, so consecutive connects reach different servers.
        var clients = new ILoadClient[endpoints.Length * perServer];
        await ConnectEachAsync(impl, clients.Length, i => endpoints[i % endpoints.Length], parallelism, manual, (i, client) =>
        {
            clients[i] = client;
            return ValueTask.CompletedTask;
        }).ConfigureAwait(false);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"READY {Stopwatch.GetElapsedTime(begin).TotalSeconds:R}"));

        var stop = Task.Run(Console.In.ReadLine); // STOP, or null once the harness is gone
        var deadline = Stopwatch.GetTimestamp() + (long)(maxSeconds * Stopwatch.Frequency);
        var sent = Ccu.SendOnSchedule(clients, rate, size, reliable, manual, () => stop.IsCompleted || Stopwatch.GetTimestamp() >= deadline);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"SENT {sent}"));
        await Parallel.ForEachAsync(clients, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, (client, _) => client.DisposeAsync()).ConfigureAwait(false);
    }

    /// <summary>
    /// Connects <paramref name="count"/> clients, <paramref name="parallelism"/> at a time, worker w
    /// with account w (a key object never signs on two threads at once), and hands each to
    /// <paramref name="connected"/>; reports progress on stderr every 5 s. After a failure no new
    /// connect starts (the run is invalid anyway, and each failure can take the whole handshake
    /// timeout); throws naming the servers that did not answer.
    /// </summary>
    private static async Task ConnectEachAsync(ILoadImpl impl, int count, Func<int, IPEndPoint> server, int parallelism, bool manual, Func<int, ILoadClient, ValueTask> connected)
    {
        var next = -1;
        var done = 0;
        var begin = Stopwatch.GetTimestamp();
        var failures = new ConcurrentQueue<string>();
        var workers = Enumerable.Range(0, parallelism).Select(worker => Task.Run(async () =>
        {
            for (int i; failures.IsEmpty && (i = Interlocked.Increment(ref next)) < count;)
            {
                var endpoint = server(i);
                try
                {
                    // The transport's own handshake timeout bounds each connect.
                    var client = await impl.ConnectAsync(endpoint, worker, manual, CancellationToken.None).ConfigureAwait(false);
                    await connected(i, client).ConfigureAwait(false);
                    Interlocked.Increment(ref done);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    failures.Enqueue($"{endpoint} ({e.GetType().Name}: {e.Message})");
                }
            }
        })).ToArray();
        var all = Task.WhenAll(workers);
        while (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false) != all)
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Volatile.Read(ref done)} of {count} handshakes, {Stopwatch.GetElapsedTime(begin).TotalSeconds:0} s"));
        await all.ConfigureAwait(false);
        if (!failures.IsEmpty)
            throw new InvalidOperationException($"{failures.Count} handshake(s) failed after {Volatile.Read(ref done)} of {count} succeeded: {string.Join("; ", failures.Take(3))}");
    }
}
