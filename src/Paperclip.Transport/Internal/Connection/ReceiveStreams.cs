using System.Buffers;
using Paperclip.Protocol;

namespace Paperclip.Transport.Internal.Connection;

/// <summary>What a CHANNEL message is to its stream (protocol §2.2, §3.3 step 7).</summary>
internal enum StreamOutcome
{
    /// <summary>Deliver it (then, on an ordered stream, every held message that now comes next).</summary>
    Deliver,
    /// <summary>Ahead of its ordered stream's next: hold it until its turn.</summary>
    Hold,
    /// <summary>Delivered or held before, or older than the stream's last: acknowledge again, drop.</summary>
    Duplicate,
    /// <summary>Would exceed a held-message bound: drop without acknowledging, the sender resends it.</summary>
    Refused,
    /// <summary>4096 or more ahead of its ordered stream's next: PACKET / CHANNEL, not acknowledged.</summary>
    OutOfWindow,
}

/// <summary>
/// The receiving side of a session's CHANNEL streams (protocol §2.2): each ordered stream's next
/// CSEQ and the messages held ahead of it, each sequenced stream's last delivered CSEQ. Held
/// messages are bounded per session in count and bytes and over all sessions in bytes; a stream
/// that holds messages for longer than the reliable timeout without its next one arriving ends
/// the session. Streams are made on first use.
/// </summary>
internal sealed class ReceiveStreams(int maxHeldMessages, int maxHeldBytes, ReassemblyBudget? budget, long reliableTimeoutMs) : IDisposable
{
    private readonly OrderedStream?[] _ordered = new OrderedStream?[ProtocolConstants.ChannelCount];
    // Reliable sequenced streams at 0–63, unreliable sequenced at 64–127: the last CSEQ delivered, +1 (0 = none yet).
    private readonly int[] _lastSequenced = new int[2 * ProtocolConstants.ChannelCount];
    private long _deadline = long.MaxValue;

    public int HeldCount { get; private set; }

    public int HeldBytes { get; private set; }

    /// <summary>When a stream has held messages for the reliable timeout.</summary>
    public long Deadline => HeldCount == 0 ? long.MaxValue : _deadline;

    /// <summary>Decides what <paramref name="header"/>'s message is to its stream; changes nothing.</summary>
    public StreamOutcome Classify(in PacketHeader header, int length)
    {
        if (header.Sequenced)
        {
            var last = _lastSequenced[SequencedIndex(header)];
            return last == 0 || IsNewer(header.ChannelSequence, (ushort)(last - 1)) ? StreamOutcome.Deliver : StreamOutcome.Duplicate;
        }
        var stream = _ordered[header.Channel];
        var distance = (ushort)(header.ChannelSequence - (stream?.Next ?? 0));
        if (distance == 0)
            return StreamOutcome.Deliver;
        if (distance >= 32768)
            return StreamOutcome.Duplicate;
        if (distance >= ProtocolConstants.OrderedSendWindow)
            return StreamOutcome.OutOfWindow;
        if (stream is not null && stream.Held.ContainsKey(header.ChannelSequence))
            return StreamOutcome.Duplicate;
        return HeldCount + 1 > maxHeldMessages || HeldBytes + length > maxHeldBytes ? StreamOutcome.Refused : StreamOutcome.Hold;
    }

    /// <summary>Holds a copy of an ordered message that <see cref="Classify"/> said to hold. False when the shared budget refuses it.</summary>
    public bool TryHold(in PacketHeader header, ReadOnlySpan<byte> data, MessageInfo info, long now)
    {
        if (!(budget?.TryReserve(data.Length) ?? true))
            return false;
        var stream = _ordered[header.Channel] ??= new OrderedStream();
        var copy = ArrayPool<byte>.Shared.Rent(Math.Max(data.Length, 1));
        data.CopyTo(copy);
        stream.Held.Add(header.ChannelSequence, new HeldMessage(copy, data.Length, info, now));
        HeldCount++;
        HeldBytes += data.Length;
        _deadline = Math.Min(_deadline, now + reliableTimeoutMs);
        return true;
    }

    /// <summary>
    /// Records the delivery of a message <see cref="Classify"/> said to deliver; for an ordered
    /// stream hands <paramref name="deliver"/> every held message that now comes next, in order.
    /// </summary>
    public void Delivered(in PacketHeader header, IReceiveHandler deliver)
    {
        if (header.Sequenced)
        {
            _lastSequenced[SequencedIndex(header)] = header.ChannelSequence + 1;
            return;
        }
        var stream = _ordered[header.Channel] ??= new OrderedStream();
        stream.Next = (ushort)(header.ChannelSequence + 1);
        if (stream.Held.Count == 0)
            return;
        while (!deliver.IsClosed && stream.Held.Remove(stream.Next, out var held))
        {
            stream.Next++;
            try
            {
                deliver.OnMessage(held.Data.AsSpan(0, held.Length), held.Info);
            }
            finally
            {
                Release(held);
            }
        }
        _deadline = EarliestDeadline();
    }

    /// <summary>False when a stream held messages for the reliable timeout at <paramref name="now"/>: the session must end (DISCONNECT / TIMEOUT).</summary>
    public bool Check(long now) => Deadline > now;

    public void Dispose()
    {
        foreach (var stream in _ordered)
        {
            if (stream is null)
                continue;
            foreach (var held in stream.Held.Values)
                Release(held);
            stream.Held.Clear();
        }
        Array.Clear(_ordered);
    }

    private static bool IsNewer(ushort a, ushort b) => (ushort)(a - b) is > 0 and < 32768;

    private static int SequencedIndex(in PacketHeader header) =>
        ((header.Flags & PacketFlags.Reliable) != 0 ? 0 : ProtocolConstants.ChannelCount) + header.Channel;

    private void Release(in HeldMessage held)
    {
        HeldCount--;
        HeldBytes -= held.Length;
        budget?.Release(held.Length);
        ArrayPool<byte>.Shared.Return(held.Data);
    }

    // Each stream's deadline counts from the oldest message it still holds (§2.2).
    private long EarliestDeadline()
    {
        var earliest = long.MaxValue;
        foreach (var stream in _ordered)
        {
            if (stream is null)
                continue;
            foreach (var held in stream.Held.Values)
                earliest = Math.Min(earliest, held.ReceivedMs + reliableTimeoutMs);
        }
        return earliest;
    }

    private sealed class OrderedStream
    {
        public ushort Next;
        public readonly Dictionary<ushort, HeldMessage> Held = [];
    }

    private readonly record struct HeldMessage(byte[] Data, int Length, MessageInfo Info, long ReceivedMs);
}
