using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Paperclip.LoadTest;

internal sealed record CcuSettings(int Clients, int Rate, int Size, bool Reliable, double Seconds, double Warmup, bool AllocationProfile = false);

/// <summary>
/// Many connected clients at a game's rate: <c>clients</c> clients each send <c>rate</c> messages
/// of <c>size</c> bytes per second, spread evenly. The clients run in a child process, so the CPU
/// this process uses over the measurement window is the server's alone; latency is one-way,
/// client Send → server DataReceived, from the timestamp in each message.
/// </summary>
internal static class Ccu
{
    public static async Task<Result> RunAsync(ImplSpec spec, CcuSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Size < Payload.HeaderSize)
            throw new ArgumentException($"--size must be at least {Payload.HeaderSize} (the timestamp header).");
        if (settings.Reliable && !spec.SupportsReliable)
            throw new NotSupportedException($"{spec.Name} has no reliable delivery.");

        using var pki = spec.Kind == ImplKind.Paperclip ? Pki.Create(settings.Clients) : null;
        var keys = pki is null ? null : Path.Combine(Path.GetTempPath(), $"paperclip-load-{Environment.ProcessId}-{Guid.NewGuid():N}.keys");
        pki?.Save(keys!);
        using var sink = new Sink();
        var server = Impls.Create(spec, pki).StartServer(sink, settings.Clients + 8);
        try
        {
            var sendSeconds = settings.Warmup + settings.Seconds + 1;
            using var child = ChildProcess.Start(ChildArguments(spec, server.EndPoint, keys,
                "--mode", "ccu", "--clients", Invariant(settings.Clients), "--rate", Invariant(settings.Rate), "--size", Invariant(settings.Size),
                "--reliable", settings.Reliable ? "true" : "false", "--seconds", Invariant(sendSeconds)));
            child.WaitFor("READY", TimeSpan.FromSeconds(120));
            // A client is connected once it has the server's Finished; the server counts it once the
            // client's Finished arrives, a moment later.
            for (var i = 0; i < 500 && server.Connected < settings.Clients; i++)
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            var connected = server.Connected;

            await Task.Delay(TimeSpan.FromSeconds(settings.Warmup), cancellationToken).ConfigureAwait(false);
            using var sampler = settings.AllocationProfile ? new AllocationSampler() : null;
            sampler?.Start();
            var start = Snapshot.Take(sink.Received, 0);
            sink.StartRecording();
            await Task.Delay(TimeSpan.FromSeconds(settings.Seconds), cancellationToken).ConfigureAwait(false);
            var end = Snapshot.Take(sink.Received, 0);
            sink.StopRecording();
            sampler?.Stop();
            if (sampler is not null)
                Console.WriteLine(sampler.Report(end.Received - start.Received));

            var sent = long.Parse(child.WaitFor("SENT", TimeSpan.FromSeconds(sendSeconds + 60)), CultureInfo.InvariantCulture);
            sink.WaitForReceived(sent, 500);
            await child.WaitForExitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);

            var seconds = Snapshot.Seconds(start, end);
            var delivered = end.Received - start.Received;
            return new Result
            {
                Scenario = "ccu",
                Impl = spec.Name,
                Size = settings.Size,
                Reliable = settings.Reliable,
                Encrypted = spec.Encrypted,
                Clients = settings.Clients,
                MsgsPerS = delivered / seconds,
                MbPerS = delivered * (double)settings.Size / seconds / 1e6,
                LossPct = sent == 0 ? 0 : Math.Max(0, 100.0 * (sent - sink.Received) / sent),
                P50Us = sink.Latency.Percentile(0.50),
                P99Us = sink.Latency.Percentile(0.99),
                ServerCpuPct = Snapshot.CpuPercent(start, end),
                AllocBytesPerMsg = delivered == 0 ? null : (double)(end.AllocatedBytes - start.AllocatedBytes) / delivered,
                Note = connected < settings.Clients ? $"only {connected} of {settings.Clients} clients connected" : null,
            };
        }
        finally
        {
            await server.DisposeAsync().ConfigureAwait(false);
            if (keys is not null)
                File.Delete(keys);
        }
    }

    public static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);

    public static IEnumerable<string> ChildArguments(ImplSpec spec, IPEndPoint server, string? keys, params string[] more)
    {
        yield return "--impl";
        yield return spec.Name;
        yield return "--server";
        yield return server.ToString();
        if (keys is not null)
        {
            yield return "--keys";
            yield return keys;
        }
        foreach (var argument in more)
            yield return argument;
    }

    /// <summary>The child: connects every client, says READY, sends on schedule for the given seconds, says SENT n.</summary>
    public static async Task RunClientsAsync(ImplSpec spec, IPEndPoint server, Pki? pki, int count, int rate, int size, bool reliable, double seconds)
    {
        var impl = Impls.Create(spec, pki);
        var manual = spec.Kind == ImplKind.LiteNetLib; // one thread pumps every LiteNetLib client, not two threads each
        var clients = new ILoadClient[count];
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(100)))
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = timeout.Token },
                async (i, token) => clients[i] = await impl.ConnectAsync(server, i, manual, token).ConfigureAwait(false)).ConfigureAwait(false);
        }
        Console.WriteLine("READY");

        var end = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var sent = SendOnSchedule(clients, rate, size, reliable, manual, () => Stopwatch.GetTimestamp() >= end);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"SENT {sent}"));
        await Parallel.ForEachAsync(clients, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (client, _) => await client.DisposeAsync().ConfigureAwait(false)).ConfigureAwait(false);
    }

    /// <summary>
    /// Every client sends <paramref name="rate"/> messages a second (none at rate 0: the sessions
    /// only idle), the clients' phases spread evenly over one period, from one thread at 1 ms
    /// granularity, until <paramref name="done"/>; returns how many were sent. LiteNetLib clients
    /// in manual mode are pumped on the same thread.
    /// </summary>
    public static long SendOnSchedule(ILoadClient[] clients, int rate, int size, bool reliable, bool manual, Func<bool> done)
    {
        var payload = Payload.Create(size);
        var count = clients.Length;
        var period = rate > 0 ? Stopwatch.Frequency / rate : 0;
        var begin = Stopwatch.GetTimestamp();
        var next = new long[count];
        for (var i = 0; i < count; i++)
            next[i] = rate > 0 ? begin + period * i / count : long.MaxValue;
        long sent = 0;
        var sequence = 0;
        var lastUpdate = begin;
        while (!done())
        {
            var now = Stopwatch.GetTimestamp();
            for (var i = 0; i < count; i++)
            {
                if (next[i] > now)
                    continue;
                Payload.Stamp(payload, i, sequence++);
                clients[i].Send(payload, reliable);
                sent++;
                next[i] += period;
            }
            if (manual)
            {
                var elapsed = (float)((now - lastUpdate) * 1000.0 / Stopwatch.Frequency);
                lastUpdate = now;
                foreach (var client in clients)
                    client.Update(elapsed);
            }
            Thread.Sleep(1);
        }
        for (var i = 0; manual && i < 20; i++)
        {
            foreach (var client in clients)
                client.Update(1);
            Thread.Sleep(1);
        }
        return sent;
    }
}
