using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Paperclip.Backend.Operations;

/// <summary>
/// The totals the console's charts are drawn from, read from the same instruments that
/// <c>/metrics</c> exports: the process-wide <c>Paperclip.Transport</c> meter and this host's
/// <c>Paperclip.Backend</c> and <c>Paperclip.GameHost</c> meters. Counters are summed as they are
/// recorded (rare events: handshakes, logins); observable instruments are read on request.
/// </summary>
public sealed class ConsoleMetrics : IDisposable
{
    private static readonly string[] MeterNames = ["Paperclip.Transport", BackendMetrics.MeterName, "Paperclip.GameHost"];
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _counters = new();
    private readonly Lock _collecting = new();
    private Dictionary<string, long> _observed = [];

    /// <summary>Starts listening.</summary>
    public ConsoleMetrics(IMeterFactory meters)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            // The transport's meter is static (one per process); the others belong to this host's factory.
            if (MeterNames.Contains(instrument.Meter.Name) && (instrument.Meter.Scope is null || ReferenceEquals(instrument.Meter.Scope, meters)))
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var key = Key(instrument.Name, tags);
            if (instrument.IsObservable)
                _observed[key] = _observed.GetValueOrDefault(key) + value;
            else
                _counters.AddOrUpdate(key, value, (_, total) => total + value);
        });
        _listener.Start();
    }

    /// <summary>Every instrument's current value, keyed <c>name</c> or <c>name{tag value,…}</c>.</summary>
    public IReadOnlyDictionary<string, long> Read()
    {
        lock (_collecting)
        {
            _observed = [];
            _listener.RecordObservableInstruments();
            var values = new Dictionary<string, long>(_observed, StringComparer.Ordinal);
            foreach (var (key, value) in _counters)
                values[key] = value;
            return values;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();

    private static string Key(string name, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
            return name;
        var values = new string[tags.Length];
        for (var i = 0; i < tags.Length; i++)
            values[i] = tags[i].Value?.ToString() ?? string.Empty;
        return $"{name}{{{string.Join(',', values)}}}";
    }
}
