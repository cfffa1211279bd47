using Paperclip.Protocol;

namespace Paperclip.Fuzz.Targets;

/// <summary>
/// <c>batch</c>: a BATCH's DATA split by <see cref="BatchReader"/>, each inner packet through
/// <see cref="PacketReader"/>, as a session reads a BATCH. Promised: entries that tile DATA from
/// its start, none of type AUTH or BATCH nor ENCRYPTED, and either the whole DATA read or
/// <see cref="BatchReader.IsMalformed"/>.
/// </summary>
public static class BatchTarget
{
    public static void Run(ReadOnlySpan<byte> data)
    {
        var batch = new BatchReader(data);
        var consumed = 0;
        while (batch.TryReadNext(out var inner))
        {
            consumed += Batch.EntryOverhead + inner.Length;
            if (consumed > data.Length || !data[(consumed - inner.Length)..consumed].Overlaps(inner, out var offset) || offset != 0)
                throw new FindingException("An inner packet is not the next entry of DATA.");
            var type = PacketRules.TypeOf(inner[0]);
            if (type is PacketType.Auth or PacketType.Batch || (PacketRules.FlagsOf(inner[0]) & PacketFlags.Encrypted) != 0)
                throw new FindingException($"An inner packet of type {type} (TF {inner[0]:x2}) was let through.");
            if (PacketReader.TryRead(inner, out var header, out _))
                PacketTarget.Check(inner, header);
        }
        if (!batch.IsMalformed && consumed != data.Length)
            throw new FindingException($"The batch ended at {consumed} of {data.Length} B without being malformed.");
    }
}
