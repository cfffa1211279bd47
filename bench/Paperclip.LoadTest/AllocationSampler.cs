using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.Text;

namespace Paperclip.LoadTest;

/// <summary>
/// <c>--alloc-profile</c>: which types this process allocates, from the runtime's GC
/// AllocationTick events (one sample about every 100 KB). The listener allocates itself, so a run
/// with it reports no meaningful B/msg; it is for finding the allocation, not for measuring it.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);
    private volatile bool _recording;

    public void Start()
    {
        _bytes.Clear();
        _recording = true;
    }

    public void Stop() => _recording = false;

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_recording || eventData.EventName is null || !eventData.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || eventData.PayloadNames is null)
            return;
        var type = eventData.PayloadNames.IndexOf("TypeName");
        var amount = eventData.PayloadNames.IndexOf("AllocationAmount64");
        if (type < 0 || amount < 0)
            return;
        var name = eventData.Payload![type] as string ?? "?";
        var bytes = Convert.ToInt64(eventData.Payload[amount], CultureInfo.InvariantCulture);
        _bytes.AddOrUpdate(name, bytes, (_, total) => total + bytes);
    }

    /// <summary>The types with the most sampled bytes, with their estimated bytes per message.</summary>
    public string Report(long messages, int top = 12)
    {
        var text = new StringBuilder("  allocation samples (type, sampled bytes, ≈ B/msg):");
        foreach (var (type, bytes) in _bytes.OrderByDescending(p => p.Value).Take(top))
            text.Append(CultureInfo.InvariantCulture, $"\n    {type,-90} {bytes,12:N0}  {(messages > 0 ? (double)bytes / messages : 0),8:0.0}");
        return text.ToString();
    }
}
