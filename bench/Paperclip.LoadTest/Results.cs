using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Paperclip.LoadTest;

/// <summary>One measured run. Null means "not measured in this scenario".</summary>
internal sealed record Result
{
    public required string Scenario { get; init; }
    public required string Impl { get; init; }
    public int Size { get; init; }
    public bool Reliable { get; init; }
    public bool Encrypted { get; init; }
    public int Clients { get; init; }
    public double? MsgsPerS { get; init; }
    public double? MbPerS { get; init; }
    public double LossPct { get; init; }
    /// <summary>throughput: loss the impairment proxy added in each direction, % (null: no proxy).</summary>
    public double? LossInjectedPct { get; init; }
    public double? P50Us { get; init; }
    public double? P99Us { get; init; }
    /// <summary>CPU of the server process alone (ccu, handshakes: clients run in a child process; density: the servers' own child process), % of one core.</summary>
    public double? ServerCpuPct { get; init; }
    /// <summary>CPU of the whole harness process (throughput: clients, server and the sender thread together), % of one core.</summary>
    public double? ProcessCpuPct { get; init; }
    public double? AllocBytesPerMsg { get; init; }
    public double? HandshakesPerS { get; init; }
    /// <summary>density: servers in the servers' process (<see cref="Clients"/> is then the total over all of them).</summary>
    public int? Servers { get; init; }
    /// <summary>density: messages per second per client (0 = idle sessions).</summary>
    public int? Rate { get; init; }
    /// <summary>density: threads of the servers' process, at the end of the window.</summary>
    public int? Threads { get; init; }
    /// <summary>density: resident memory of the servers' process, MiB, at the end of the window.</summary>
    public double? RssMb { get; init; }
    /// <summary>density: seconds to bind every server.</summary>
    public double? BindS { get; init; }
    /// <summary>density: seconds until every server had answered a handshake (probes, or connecting the clients).</summary>
    public double? ProbeS { get; init; }
    public string? Note { get; init; }

    /// <summary>The figure a scenario is judged by, and whether more is better.</summary>
    public (double Value, bool HigherIsBetter) Headline => Scenario switch
    {
        "ccu" or "density" => (ServerCpuPct ?? double.NaN, false),
        "handshakes" => (HandshakesPerS ?? double.NaN, true),
        _ => (MsgsPerS ?? double.NaN, true),
    };

    public string CaseKey => Scenario switch
    {
        "handshakes" => "handshakes",
        "ccu" => string.Create(CultureInfo.InvariantCulture, $"ccu {Clients}c {Size} B {(Reliable ? "reliable" : "unreliable")}"),
        "density" => string.Create(CultureInfo.InvariantCulture, $"density {Servers}s {Clients}c {Rate}/s {Size} B{(Reliable ? " rel" : "")}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"throughput {Size} B {(Reliable ? "reliable" : "unreliable")}{(LossInjectedPct is { } loss ? $" {loss:0.#}% loss" : "")}"),
    };
}

internal static class Report
{
    public static string Line(Result r) => string.Create(CultureInfo.InvariantCulture,
        $"{r.CaseKey,-32} {r.Impl,-16} {Num(r.MsgsPerS, 0),10} msg/s {Num(r.MbPerS, 1),7} MB/s loss {Num(r.LossPct, 2)}% p50 {Num(r.P50Us, 0)} µs p99 {Num(r.P99Us, 0)} µs srvCPU {Num(r.ServerCpuPct, 1)}% procCPU {Num(r.ProcessCpuPct, 1)}% alloc {Num(r.AllocBytesPerMsg, 1)} B/msg hs/s {Num(r.HandshakesPerS, 0)}{Density(r)}{(r.Note is null ? "" : "  [" + r.Note + "]")}");

    /// <summary>
    /// One row per case and implementation, with the headline figure's ratio to LiteNetLib and to
    /// raw sockets (msgs/s for throughput, server CPU for ccu, handshakes/s for handshakes).
    /// </summary>
    public static string Table(IReadOnlyList<Result> results)
    {
        var text = new StringBuilder();
        var header = string.Format(CultureInfo.InvariantCulture, "| {0,-30} | {1,-15} | {2,10} | {3,7} | {4,6} | {5,7} | {6,7} | {7,7} | {8,7} | {9,7} | {10,7} | {11,8} | {12,8} |",
            "case", "impl", "msgs/s", "MB/s", "loss%", "p50 µs", "p99 µs", "srv CPU", "proc CPU", "B/msg", "hs/s", "÷ LNL", "÷ raw");
        text.AppendLine(header);
        text.AppendLine("|" + string.Join("|", header.Split('|', StringSplitOptions.RemoveEmptyEntries).Select(c => new string('-', c.Length))) + "|");
        foreach (var group in results.GroupBy(r => r.CaseKey))
        {
            var lnl = group.FirstOrDefault(r => r.Impl == "litenetlib")?.Headline.Value;
            var raw = group.FirstOrDefault(r => r.Impl == "raw")?.Headline.Value;
            foreach (var r in group)
            {
                text.AppendLine(string.Format(CultureInfo.InvariantCulture, "| {0,-30} | {1,-15} | {2,10} | {3,7} | {4,6} | {5,7} | {6,7} | {7,7} | {8,8} | {9,7} | {10,7} | {11,8} | {12,8} |",
                    r.CaseKey, r.Impl, Num(r.MsgsPerS, 0), Num(r.MbPerS, 1), Num(r.LossPct, 2), Num(r.P50Us, 0), Num(r.P99Us, 0),
                    Pct(r.ServerCpuPct), Pct(r.ProcessCpuPct), Num(r.AllocBytesPerMsg, 1), Num(r.HandshakesPerS, 0),
                    Ratio(r.Headline.Value, lnl), Ratio(r.Headline.Value, raw)));
            }
        }
        text.AppendLine("Ratios: msgs/s for throughput (higher is better), server CPU for ccu and density (lower is better), handshakes/s for handshakes.");
        text.AppendLine("CPU: % of one core (this machine has " + Environment.ProcessorCount + "); srv = server process alone (clients in a child process), proc = the whole in-process run.");
        return text.ToString();
    }

    public static void WriteJson(string path, IReadOnlyList<Result> results, string command)
    {
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("command", command);
        json.WriteString("machine", Machine());
        json.WriteString("utc", DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        json.WriteStartArray("results");
        foreach (var r in results)
        {
            json.WriteStartObject();
            json.WriteString("scenario", r.Scenario);
            json.WriteString("impl", r.Impl);
            json.WriteNumber("size", r.Size);
            json.WriteBoolean("reliable", r.Reliable);
            json.WriteBoolean("encrypted", r.Encrypted);
            json.WriteNumber("clients", r.Clients);
            Number(json, "msgs_per_s", r.MsgsPerS);
            Number(json, "mb_per_s", r.MbPerS);
            Number(json, "loss_pct", r.LossPct);
            Number(json, "loss_injected_pct", r.LossInjectedPct);
            Number(json, "p50_us", r.P50Us);
            Number(json, "p99_us", r.P99Us);
            Number(json, "server_cpu_pct", r.ServerCpuPct);
            Number(json, "process_cpu_pct", r.ProcessCpuPct);
            Number(json, "alloc_bytes_per_msg", r.AllocBytesPerMsg);
            Number(json, "handshakes_per_s", r.HandshakesPerS);
            Number(json, "servers", r.Servers);
            Number(json, "rate", r.Rate);
            Number(json, "threads", r.Threads);
            Number(json, "rss_mb", r.RssMb);
            Number(json, "bind_s", r.BindS);
            Number(json, "probe_s", r.ProbeS);
            if (r.Note is not null)
                json.WriteString("note", r.Note);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static string Machine()
    {
        var cpu = "unknown CPU";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return $"{cpu}, {Environment.ProcessorCount} logical cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }

    private static void Number(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v))
            json.WriteNumber(name, Math.Round(v, 3));
        else
            json.WriteNull(name);
    }

    private static string Density(Result r) => r.Servers is null ? "" : string.Create(CultureInfo.InvariantCulture,
        $" threads {r.Threads} rss {Num(r.RssMb, 0)} MiB bind {Num(r.BindS, 1)} s probe {Num(r.ProbeS, 1)} s");

    private static string Num(double? value, int decimals) =>
        value is { } v && double.IsFinite(v) ? v.ToString("N" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : "—";

    private static string Pct(double? value) => value is { } v && double.IsFinite(v) ? v.ToString("0.0", CultureInfo.InvariantCulture) + "%" : "—";

    private static string Ratio(double value, double? reference) =>
        reference is { } r && r > 0 && double.IsFinite(value) && double.IsFinite(r) ? (value / r).ToString("0.00", CultureInfo.InvariantCulture) + "×" : "—";
}
