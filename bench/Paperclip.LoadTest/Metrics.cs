using System.Buffers.Binary;
using System.Diagnostics;

namespace Paperclip.LoadTest;

/// <summary>
/// The first 16 bytes of every load-test message: the sender's <see cref="Stopwatch"/> timestamp
/// (one clock for every process on the machine, so receive − send is the one-way latency), the
/// client index and a sequence number. The rest of the message is filler.
/// </summary>
internal static class Payload
{
    public const int HeaderSize = 16;

    public static byte[] Create(int size)
    {
        var payload = new byte[size];
        for (var i = HeaderSize; i < size; i++)
            payload[i] = (byte)(i * 31);
        return payload;
    }

    public static void Stamp(Span<byte> payload, int client, int sequence)
    {
        BinaryPrimitives.WriteInt64LittleEndian(payload, Stopwatch.GetTimestamp());
        BinaryPrimitives.WriteInt32LittleEndian(payload[8..], client);
        BinaryPrimitives.WriteInt32LittleEndian(payload[12..], sequence);
    }

    public static long SentTimestamp(ReadOnlySpan<byte> payload) => BinaryPrimitives.ReadInt64LittleEndian(payload);
}

/// <summary>
/// Latencies in microseconds: 1 µs buckets up to 2 ms, then 1 ms buckets up to about 4 s.
/// Lock-free and allocation-free; safe for several recording threads.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int FineBuckets = 2048;
    private const int CoarseBuckets = 4096;
    private readonly long[] _counts = new long[FineBuckets + CoarseBuckets];

    public static long ToMicroseconds(long stopwatchTicks) => stopwatchTicks * 1_000_000 / Stopwatch.Frequency;

    public void Record(long microseconds)
    {
        if (microseconds < 0)
            microseconds = 0;
        var index = microseconds < FineBuckets ? (int)microseconds : (int)Math.Min(FineBuckets + CoarseBuckets - 1, FineBuckets + ((microseconds - FineBuckets) >> 10));
        Interlocked.Increment(ref _counts[index]);
    }

    public void Clear() => Array.Clear(_counts);

    /// <summary>The value below which <paramref name="fraction"/> of the samples fall (bucket upper bound), or null without samples.</summary>
    public double? Percentile(double fraction)
    {
        var snapshot = new long[_counts.Length];
        long total = 0;
        for (var i = 0; i < snapshot.Length; i++)
        {
            snapshot[i] = Interlocked.Read(ref _counts[i]);
            total += snapshot[i];
        }
        if (total == 0)
            return null;
        var rank = (long)Math.Ceiling(fraction * total);
        long seen = 0;
        for (var i = 0; i < snapshot.Length; i++)
        {
            seen += snapshot[i];
            if (seen >= rank)
                return i < FineBuckets ? i + 1 : FineBuckets + ((double)(i - FineBuckets + 1) * 1024);
        }
        return null;
    }
}

/// <summary>
/// The server side of every scenario: counts delivered messages, records one-way latency while
/// recording, and wakes a sender waiting for credit. Called on the transport's receive threads.
/// </summary>
internal sealed class Sink : IDisposable
{
    private readonly ManualResetEventSlim _credit = new(false, spinCount: 20);
    private long _received;
    private long _wakeAt = long.MaxValue;
    private volatile bool _recording;

    public LatencyHistogram Latency { get; } = new();

    public long Received => Volatile.Read(ref _received);

    public void OnMessage(ReadOnlySpan<byte> data)
    {
        var now = Stopwatch.GetTimestamp();
        var received = Interlocked.Increment(ref _received);
        if (_recording && data.Length >= Payload.HeaderSize)
            Latency.Record(LatencyHistogram.ToMicroseconds(now - Payload.SentTimestamp(data)));
        if (received >= Volatile.Read(ref _wakeAt))
        {
            Volatile.Write(ref _wakeAt, long.MaxValue);
            _credit.Set();
        }
    }

    public void StartRecording()
    {
        Latency.Clear();
        _recording = true;
    }

    public void StopRecording() => _recording = false;

    /// <summary>Blocks until <see cref="Received"/> reaches <paramref name="target"/> or the timeout; true when it did.</summary>
    public bool WaitForReceived(long target, int timeoutMilliseconds)
    {
        _credit.Reset();
        Volatile.Write(ref _wakeAt, target);
        if (Received >= target)
        {
            Volatile.Write(ref _wakeAt, long.MaxValue);
            return true;
        }
        var woken = _credit.Wait(timeoutMilliseconds);
        Volatile.Write(ref _wakeAt, long.MaxValue);
        return woken || Received >= target;
    }

    public void Dispose() => _credit.Dispose();
}

/// <summary>A point in time with the counters a measurement window subtracts.</summary>
internal readonly record struct Snapshot(long Timestamp, long Received, long Sent, long AllocatedBytes, TimeSpan ProcessCpu)
{
    public static Snapshot Take(long received, long sent) =>
        new(Stopwatch.GetTimestamp(), received, sent, GC.GetTotalAllocatedBytes(precise: true), Environment.CpuUsage.TotalTime);

    public static double Seconds(in Snapshot from, in Snapshot to) => (double)(to.Timestamp - from.Timestamp) / Stopwatch.Frequency;

    /// <summary>CPU time over wall time, in percent of one core (200 = both cores of this machine).</summary>
    public static double CpuPercent(in Snapshot from, in Snapshot to) => 100 * (to.ProcessCpu - from.ProcessCpu).TotalSeconds / Seconds(from, to);
}

/// <summary>
/// Threads and resident memory of this process at one moment. Taken outside a CPU window: on Linux
/// counting threads reads every /proc/self/task entry.
/// </summary>
internal readonly record struct ProcessFootprint(int Threads, double RssMb)
{
    public static ProcessFootprint Take()
    {
        using var process = Process.GetCurrentProcess();
        return new(process.Threads.Count, process.WorkingSet64 / (double)(1 << 20));
    }
}
