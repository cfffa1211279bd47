using CsCheck;

namespace Paperclip.Protocol.Tests.Packets;

/// <summary>DEFLATE with its cap, fragmentation and the bounded reassembly buffer.</summary>
public sealed class MessageTests
{
    [Fact]
    public void Deflate_round_trips_and_refuses_output_past_the_cap()
    {
        var data = new byte[100_000];
        for (var i = 0; i < data.Length; i++)
            data[i] = (byte)(i % 7);
        var compressed = new byte[Deflate.MaxCompressedLength(data.Length)];
        var length = Deflate.Compress(data, compressed);
        Assert.True(length < data.Length / 10);

        var output = new byte[data.Length];
        Assert.True(Deflate.TryInflate(compressed.AsSpan(0, length), output, out var written));
        Assert.Equal(data, output.AsSpan(0, written).ToArray());

        Assert.False(Deflate.TryInflate(compressed.AsSpan(0, length), new byte[data.Length - 1], out _));
    }

    // Found by the inflate fuzz target's seeds: COMPRESSED with empty DATA threw ArgumentNullException.
    [Fact]
    public void Empty_data_does_not_inflate()
    {
        Assert.False(Deflate.TryInflate([], new byte[ProtocolConstants.MaxMessageSize], out var written));
        Assert.Equal(0, written);
    }

    // Found while checking the inflate target's promise: every prefix of a stream inflated to
    // what it held and returned true, so a message cut short was delivered as if whole.
    [Fact]
    public void A_stream_cut_short_does_not_inflate()
    {
        var data = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 500).Select(i => $"line {i};")));
        var compressed = new byte[Deflate.MaxCompressedLength(data.Length)];
        var length = Deflate.Compress(data, compressed);
        var output = new byte[data.Length];
        for (var cut = 1; cut < length; cut++)
            Assert.False(Deflate.TryInflate(compressed.AsSpan(0, cut), output, out _), $"cut at {cut} of {length}");
        Assert.True(Deflate.TryInflate(compressed.AsSpan(0, length), output, out var written));
        Assert.Equal(data.Length, written);
    }

    // The sender's side of the same finding: an empty message compressed to no bytes at all.
    [Fact]
    public void An_empty_message_compresses_to_a_stream_that_inflates_to_nothing()
    {
        var compressed = new byte[Deflate.MaxCompressedLength(0)];
        var length = Deflate.Compress([], compressed);
        Assert.True(length > 0);
        Assert.True(Deflate.TryInflate(compressed.AsSpan(0, length), new byte[16], out var written));
        Assert.Equal(0, written);
    }

    [Fact]
    public void Decompression_bomb_is_refused_at_the_cap()
    {
        var zeros = new byte[10 << 20];
        var compressed = new byte[Deflate.MaxCompressedLength(zeros.Length)];
        var length = Deflate.Compress(zeros, compressed);
        Assert.False(Deflate.TryInflate(compressed.AsSpan(0, length), new byte[ProtocolConstants.MaxMessageSize], out _));
    }

    [Fact]
    public void Garbage_does_not_inflate()
    {
        Gen.Byte.Array[1, 200].Sample(bytes =>
        {
            var output = new byte[1024];
            if (Deflate.TryInflate(bytes, output, out var written))
                Assert.InRange(written, 0, output.Length);
        }, iter: 5_000);
    }

    [Fact]
    public void Fragments_reassemble_in_any_order()
    {
        Gen.Select(Gen.Byte.Array[0, 20_000], Gen.Int[16, 1100], Gen.Int).Sample((data, capacity, seed) =>
        {
            var count = Fragmenter.FragmentCount(data.Length, capacity);
            if (count > ProtocolConstants.MaxFragments)
                return;
            var order = Enumerable.Range(0, count).OrderBy(i => HashCode.Combine(seed, i)).ToArray();
            using var buffer = new ReassemblyBuffer();
            var crc = Checksum.Compute(data);
            for (var n = 0; n < order.Length; n++)
            {
                var header = Fragment(7, order[n], count, crc);
                var status = buffer.Add(header, Fragmenter.Chunk(data, order[n], capacity), 0, out var message);
                using (message)
                {
                    if (n < order.Length - 1)
                    {
                        Assert.Equal(ReassemblyStatus.Incomplete, status);
                    }
                    else
                    {
                        Assert.Equal(ReassemblyStatus.Complete, status);
                        Assert.Equal(data, message.Span.ToArray());
                    }
                }
            }
            Assert.Equal(0, buffer.PartialCount);
            Assert.Equal(0, buffer.PartialBytes);
        }, iter: 300);
    }

    [Fact]
    public void Disagreeing_fragment_discards_the_set()
    {
        using var buffer = new ReassemblyBuffer();
        Assert.Equal(ReassemblyStatus.Incomplete, buffer.Add(Fragment(1, 0, 3, 42), new byte[10], 0, out _));
        Assert.Equal(ReassemblyStatus.Duplicate, buffer.Add(Fragment(1, 0, 3, 42), new byte[10], 0, out _));
        Assert.Equal(ReassemblyStatus.Discarded, buffer.Add(Fragment(1, 1, 4, 42), new byte[10], 0, out _));
        Assert.Equal(0, buffer.PartialCount);
        Assert.Equal(ReassemblyStatus.Incomplete, buffer.Add(Fragment(1, 0, 3, 42), new byte[10], 0, out _));
        Assert.Equal(ReassemblyStatus.Discarded, buffer.Add(Fragment(1, 1, 3, 43), new byte[10], 0, out _));
        Assert.Equal(0, buffer.PartialBytes);
    }

    [Fact]
    public void Fragment_bomb_stays_within_the_caps_and_expires()
    {
        var budget = new ReassemblyBudget(200_000);
        using var buffer = new ReassemblyBuffer(maxPartialMessages: 64, maxPartialBytes: 100_000, budget: budget);
        for (var sequence = 0; sequence < 1000; sequence++)
        {
            buffer.Add(Fragment((ushort)sequence, 0, 255, 0), new byte[1000], sequence, out _);
            Assert.InRange(buffer.PartialCount, 1, 64);
            Assert.InRange(buffer.PartialBytes, 0, 100_000);
        }
        Assert.Equal(buffer.PartialBytes, budget.Used);
        Assert.Equal(buffer.PartialCount, buffer.Expire(cutoffMilliseconds: 1000));
        Assert.Equal(0, budget.Used);
    }

    [Fact]
    public void A_set_that_keeps_gaining_fragments_outlives_the_timeout_and_a_silent_one_does_not()
    {
        using var buffer = new ReassemblyBuffer();
        buffer.Add(Fragment(1, 0, 3, 0), new byte[100], nowMilliseconds: 0, out _);
        buffer.Add(Fragment(2, 0, 3, 0), new byte[100], nowMilliseconds: 0, out _);
        buffer.Add(Fragment(1, 1, 3, 0), new byte[100], nowMilliseconds: 9_000, out _);
        // A repeat of a fragment already held is not progress.
        Assert.Equal(ReassemblyStatus.Duplicate, buffer.Add(Fragment(2, 0, 3, 0), new byte[100], nowMilliseconds: 9_000, out _));

        // At 10 s with a 10 s timeout: set 2 has been silent since 0, set 1 gained a fragment at 9 s.
        Assert.Equal(1, buffer.Expire(cutoffMilliseconds: 0));
        Assert.Equal(1, buffer.PartialCount);
        Assert.Equal(ReassemblyStatus.Complete, buffer.Add(Fragment(1, 2, 3, 0), new byte[100], nowMilliseconds: 15_000, out var message));
        using (message)
            Assert.Equal(300, message.Length);
    }

    [Fact]
    public void Shared_budget_refuses_past_its_cap()
    {
        var budget = new ReassemblyBudget(5_000);
        using var first = new ReassemblyBuffer(budget: budget);
        using var second = new ReassemblyBuffer(budget: budget);
        Assert.Equal(ReassemblyStatus.Incomplete, first.Add(Fragment(1, 0, 9, 0), new byte[4_000], 0, out _));
        Assert.Equal(ReassemblyStatus.TooLarge, second.Add(Fragment(1, 0, 9, 0), new byte[2_000], 0, out _));
        Assert.Equal(4_000, budget.Used);
    }

    [Fact]
    public void Message_larger_than_the_maximum_is_dropped()
    {
        using var buffer = new ReassemblyBuffer(maxMessageSize: 2_500);
        Assert.Equal(ReassemblyStatus.Incomplete, buffer.Add(Fragment(3, 0, 3, 0), new byte[1_000], 0, out _));
        Assert.Equal(ReassemblyStatus.Incomplete, buffer.Add(Fragment(3, 1, 3, 0), new byte[1_000], 0, out _));
        Assert.Equal(ReassemblyStatus.TooLarge, buffer.Add(Fragment(3, 2, 3, 0), new byte[1_000], 0, out _));
        Assert.Equal(0, buffer.PartialCount);
    }

    private static PacketHeader Fragment(ushort sequence, int id, int count, uint crc)
    {
        var header = PacketHeader.Create(PacketType.Default, PacketFlags.Reliable | PacketFlags.Frag | PacketFlags.Checksum, sequence);
        header.FragmentId = (byte)id;
        header.FragmentCount = (byte)count;
        header.Checksum = crc;
        return header;
    }
}
