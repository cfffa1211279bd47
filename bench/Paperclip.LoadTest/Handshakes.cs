using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime;
using System.Threading.Channels;

namespace Paperclip.LoadTest;

internal sealed record HandshakeSettings(int Count, int Parallelism, double MaxSeconds);

/// <summary>
/// Full connections per second: a child process runs <c>parallelism</c> workers, each creating a
/// client and connecting it (the whole handshake), until <c>count</c> are done or the time limit
/// passes; connected clients are disposed (disconnect) in the background, off the timed path. Keys and certificates are made before timing.
/// The server runs here, so this process's CPU over the run is the server's cost of handshakes.
/// </summary>
internal static class Handshakes
{
    // A warm-up still compiling after this is measured as it is (the note says how much it compiled).
    private static readonly TimeSpan WarmUpLimit = TimeSpan.FromSeconds(30);

    public static async Task<Result> RunAsync(ImplSpec spec, HandshakeSettings settings, CancellationToken cancellationToken)
    {
        using var pki = spec.Kind == ImplKind.Paperclip ? Pki.Create(settings.Parallelism) : null;
        var keys = pki is null ? null : Path.Combine(Path.GetTempPath(), $"paperclip-load-{Environment.ProcessId}-{Guid.NewGuid():N}.keys");
        pki?.Save(keys!);
        using var sink = new Sink();
        var server = Impls.Create(spec, pki).StartServer(sink, Math.Max(1024, settings.Parallelism * 4));
        try
        {
            using var child = ChildProcess.Start(Ccu.ChildArguments(spec, server.EndPoint, keys,
                "--mode", "handshakes", "--count", Invariant(settings.Count), "--parallelism", Invariant(settings.Parallelism), "--max-seconds", Invariant(settings.MaxSeconds)));
            var warmUpRounds = WarmUp(child);
            child.WaitFor("START", TimeSpan.FromSeconds(60));
            var start = Snapshot.Take(0, 0);
            var jitStart = JitInfo.GetCompilationTime();
            var jittedStart = JitInfo.GetCompiledMethodCount();
            var report = child.WaitFor("RESULT", TimeSpan.FromSeconds(settings.MaxSeconds + 60)).Split(' ');
            var end = Snapshot.Take(0, 0);
            var jitUs = (JitInfo.GetCompilationTime() - jitStart).TotalMicroseconds;
            var jitted = JitInfo.GetCompiledMethodCount() - jittedStart;
            await child.WaitForExitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();

            var ok = long.Parse(report[0], CultureInfo.InvariantCulture);
            var failed = long.Parse(report[1], CultureInfo.InvariantCulture);
            var seconds = double.Parse(report[2], CultureInfo.InvariantCulture);
            var cpuPerHandshakeUs = ok == 0 ? double.NaN : (end.ProcessCpu - start.ProcessCpu).TotalMicroseconds / ok;
            return new Result
            {
                Scenario = "handshakes",
                Impl = spec.Name,
                Encrypted = spec.Kind == ImplKind.Paperclip,
                Clients = settings.Parallelism,
                LossPct = ok + failed == 0 ? 0 : 100.0 * failed / (ok + failed),
                P50Us = ParseOrNull(report[3]),
                P99Us = ParseOrNull(report[4]),
                ServerCpuPct = Snapshot.CpuPercent(start, end),
                AllocBytesPerMsg = ok == 0 ? null : (double)(end.AllocatedBytes - start.AllocatedBytes) / ok,
                HandshakesPerS = ok / seconds,
                Note = string.Create(CultureInfo.InvariantCulture, $"{ok} ok, {failed} failed; server CPU {cpuPerHandshakeUs:0} µs and B/msg column per handshake; {warmUpRounds} warm-up rounds; JIT in the window {jitUs / 1000:0} ms, {jitted} methods"),
            };
        }
        finally
        {
            await server.DisposeAsync().ConfigureAwait(false);
            if (keys is not null)
                File.Delete(keys);
        }
    }

    // The server is warm when warm-up handshakes have made its JIT compile (almost) nothing for
    // two seconds: tiering (tier 0, instrumented, tier 1) goes on for seconds under load, and a
    // window that includes it measures the compiler (a third of the server's CPU in a
    // 3,000-handshake run). Shorter quiet spells happen while the tiering thread waits for a pause
    // in new tier-0 code, and were followed by ~1,500 methods compiled in the window.
    private static int WarmUp(ChildProcess child)
    {
        const int QuietMethods = 5;
        var quietFor = Stopwatch.Frequency * 2;
        var limit = Stopwatch.GetTimestamp() + (long)(WarmUpLimit.TotalSeconds * Stopwatch.Frequency);
        var jitted = JitInfo.GetCompiledMethodCount();
        var quietSince = Stopwatch.GetTimestamp();
        var rounds = 0;
        while (true)
        {
            child.WaitFor("WARM", TimeSpan.FromSeconds(60));
            rounds++;
            var now = Stopwatch.GetTimestamp();
            var count = JitInfo.GetCompiledMethodCount();
            if (count - jitted > QuietMethods)
                quietSince = now;
            jitted = count;
            if (now - quietSince >= quietFor || now > limit)
            {
                child.Tell("GO");
                return rounds;
            }
            child.Tell("MORE");
        }
    }

    private static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static double? ParseOrNull(string text) => text == "-" ? null : double.Parse(text, CultureInfo.InvariantCulture);

    /// <summary>The child: START, the timed connect/dispose cycles, then RESULT ok failed seconds p50 p99 (connect latency, µs).</summary>
    public static async Task RunClientsAsync(ImplSpec spec, IPEndPoint server, Pki? pki, int count, int parallelism, double maxSeconds)
    {
        var impl = Impls.Create(spec, pki);
        var latency = new LatencyHistogram();
        // Connected clients are closed off the timed path (a library's teardown, such as joining its
        // threads, is not a handshake), by two closers; at most 64 wait, so resources stay bounded.
        var closing = Channel.CreateBounded<ILoadClient>(64);
        var closers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            await foreach (var client in closing.Reader.ReadAllAsync().ConfigureAwait(false))
                await client.DisposeAsync().ConfigureAwait(false);
        })).ToArray();
        long next = -1, ok = 0, failed = 0;
        var deadline = long.MaxValue; // the time limit is the timed part's

        // Untimed warm-up first, in rounds, until the server says its JIT has finished tiering up
        // the handshake path (without it a short run measures the JIT as much as the cryptography).
        do
        {
            await RunAsync(Math.Clamp(count / 5, 20, 200), record: false).ConfigureAwait(false);
            Console.WriteLine("WARM");
        }
        while ((Console.In.ReadLine() ?? throw new InvalidOperationException("The harness closed stdin during the warm-up.")) != "GO");
        Console.WriteLine("START");
        var begin = Stopwatch.GetTimestamp();
        deadline = begin + (long)(maxSeconds * Stopwatch.Frequency);
        await RunAsync(count, record: true).ConfigureAwait(false);
        var seconds = (double)(Stopwatch.GetTimestamp() - begin) / Stopwatch.Frequency;
        closing.Writer.Complete();
        await Task.WhenAll(closers).ConfigureAwait(false);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT {ok} {failed} {seconds:R} {Format(latency.Percentile(0.5))} {Format(latency.Percentile(0.99))}"));

        async Task RunAsync(int total, bool record)
        {
            next = -1;
            ok = 0;
            failed = 0;
            var workers = Enumerable.Range(0, parallelism).Select(worker => Task.Run(async () =>
            {
                while (Interlocked.Increment(ref next) < total && Stopwatch.GetTimestamp() < deadline)
                {
                    var started = Stopwatch.GetTimestamp();
                    try
                    {
                        // Each worker has its own account: a key object is never signing on two threads.
                        var client = await impl.ConnectAsync(server, worker, manual: false, CancellationToken.None).ConfigureAwait(false);
                        if (record)
                            latency.Record(LatencyHistogram.ToMicroseconds(Stopwatch.GetTimestamp() - started));
                        Interlocked.Increment(ref ok);
                        await closing.Writer.WriteAsync(client).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        if (Interlocked.Increment(ref failed) <= 3)
                            Console.Error.WriteLine($"handshake failed: {e.GetType().Name}: {e.Message}");
                    }
                }
            })).ToArray();
            await Task.WhenAll(workers).ConfigureAwait(false);
        }

        static string Format(double? value) => value is { } v ? v.ToString(CultureInfo.InvariantCulture) : "-";
    }
}
