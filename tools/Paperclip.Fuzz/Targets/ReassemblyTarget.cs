using Paperclip.Protocol;

namespace Paperclip.Fuzz.Targets;

/// <summary>
/// <c>reassembly</c>: a sequence of fragments fed to two <see cref="ReassemblyBuffer"/>s (two
/// peers) that share one <see cref="ReassemblyBudget"/>, with expiry on a clock the input
/// drives, then inflation of completed COMPRESSED messages, as a session does it. Small caps, so
/// that inputs reach them. Promised: never past a cap (messages, bytes, message size, budget),
/// and every byte given back to the budget once the buffers are disposed.
/// </summary>
/// <remarks>
/// Input: records of STEP u8, LEN u16, then a packet of LEN bytes (the datagram as the receiver
/// has it after opening: an ENCRYPTED one still ends in room for its tag). STEP's low 7 bits
/// advance the clock by 16 ms each; its top bit picks the second peer.
/// </remarks>
public static class ReassemblyTarget
{
    private const int MaxPartialMessages = 4;
    private const int MaxPartialBytes = 4096;
    private const int MaxMessageSize = 8192;
    private const int BudgetBytes = 6144;
    private const int TimeoutMilliseconds = 1000;

    public static void Run(ReadOnlySpan<byte> input)
    {
        var budget = new ReassemblyBudget(BudgetBytes);
        var inflated = new byte[MaxMessageSize];
        var reader = new SpanReader(input);
        using (var first = new ReassemblyBuffer(MaxPartialMessages, MaxPartialBytes, MaxMessageSize, budget))
        using (var second = new ReassemblyBuffer(MaxPartialMessages, MaxPartialBytes, MaxMessageSize, budget))
        {
            var now = 0L;
            while (reader.TryReadByte(out var step) && reader.TryReadUInt16(out var length) && reader.TrySkip(length, out var start))
            {
                now += (step & 0x7F) * 16;
                var buffer = (step & 0x80) == 0 ? first : second;
                Feed(buffer, input.Slice(start, length), now, inflated);
                if (budget.Used != first.PartialBytes + second.PartialBytes || budget.Used > budget.MaxBytes)
                    throw new FindingException($"Budget holds {budget.Used} B for buffers holding {first.PartialBytes} + {second.PartialBytes} B (cap {budget.MaxBytes}).");
            }
        }
        if (budget.Used != 0)
            throw new FindingException($"{budget.Used} B of the budget were not given back after dispose.");
    }

    private static void Feed(ReassemblyBuffer buffer, ReadOnlySpan<byte> packet, long now, byte[] inflated)
    {
        if (!PacketReader.TryRead(packet, out var header, out _) || !header.Has(PacketFlags.Frag))
            return;
        var data = packet[header.Length..];
        if (header.Has(PacketFlags.Encrypted))
            data = data[..^ProtocolConstants.TagSize];

        buffer.Expire(now - TimeoutMilliseconds);
        var status = buffer.Add(header, data, now, out var message);
        using (message)
        {
            if (buffer.PartialCount > MaxPartialMessages || buffer.PartialBytes > MaxPartialBytes || buffer.PartialBytes < 0)
                throw new FindingException($"Reassembly holds {buffer.PartialCount} messages of {buffer.PartialBytes} B (caps {MaxPartialMessages}, {MaxPartialBytes}).");
            if (status != ReassemblyStatus.Complete)
            {
                if (message.Length != 0)
                    throw new FindingException($"A message came back with status {status}.");
                return;
            }
            if (message.Length > MaxMessageSize)
                throw new FindingException($"A message of {message.Length} B was assembled (cap {MaxMessageSize}).");
            if (header.Has(PacketFlags.Compressed) && Deflate.TryInflate(message.Span, inflated, out var written) && written > inflated.Length)
                throw new FindingException($"Inflated {written} B into {inflated.Length}.");
            Checksum.Compute(message.Span);
        }
    }
}
