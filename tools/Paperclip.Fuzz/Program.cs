using Paperclip.Protocol;
using SharpFuzz;

namespace Paperclip.Fuzz;

/// <summary>
/// <c>Paperclip.Fuzz</c> runs under libFuzzer (libfuzzer-dotnet) by default, or AFL with
/// <c>--afl</c>, or replays files with <c>--run FILE…</c>. Each input goes through every parser a
/// datagram meets on its way in: the header, a BATCH's entries, reassembly of the fragments among
/// them, and inflation. Any exception is a finding.
/// </summary>
internal static class Program
{
    private static readonly byte[] Inflated = new byte[ProtocolConstants.MaxMessageSize];

    private static void Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--afl")
        {
            Fuzzer.OutOfProcess.Run(stream =>
            {
                using var memory = new MemoryStream();
                stream.CopyTo(memory);
                Target(memory.ToArray());
            });
            return;
        }
        if (args.Length > 0 && args[0] == "--run")
        {
            foreach (var file in args.Skip(1))
                Target(File.ReadAllBytes(file));
            Console.WriteLine($"{args.Length - 1} inputs ran without a finding");
            return;
        }
        Fuzzer.LibFuzzer.Run(span => Target(span.ToArray()));
    }

    /// <summary>One input through every parser. Public behaviour: false or a status, never an exception.</summary>
    public static void Target(byte[] input)
    {
        var datagram = input.AsSpan();
        if (PacketReader.TryRead(datagram, out var header, out _))
        {
            if (header.Length > datagram.Length)
                throw new InvalidOperationException("The header claims more than the datagram.");
            if (header.Type == PacketType.Batch)
                Reassemble(datagram[header.Length..]);
        }
        // The same bytes as a BATCH's DATA (the usual place of fragments), and as DEFLATE data.
        Reassemble(datagram);
        if (Deflate.TryInflate(datagram, Inflated, out var written) && written > Inflated.Length)
            throw new InvalidOperationException("Inflated past the cap.");
    }

    private static void Reassemble(ReadOnlySpan<byte> batchData)
    {
        using var buffer = new ReassemblyBuffer(maxPartialMessages: 4, maxPartialBytes: 16 * 1024, maxMessageSize: 32 * 1024, new ReassemblyBudget(24 * 1024));
        var batch = new BatchReader(batchData);
        var now = 0L;
        while (batch.TryReadNext(out var inner))
        {
            if (!PacketReader.TryRead(inner, out var innerHeader, out _) || !innerHeader.Has(PacketFlags.Frag))
                continue;
            var status = buffer.Add(innerHeader, inner[innerHeader.Length..], now++, out var message);
            using (message)
            {
                if (status == ReassemblyStatus.Complete && message.Span.Length > 32 * 1024)
                    throw new InvalidOperationException("A message past the maximum size was assembled.");
            }
            if (buffer.PartialBytes > 16 * 1024 || buffer.PartialCount > 4)
                throw new InvalidOperationException("Reassembly went past its caps.");
            buffer.Expire(now - 3);
        }
    }
}
