using CsCheck;
using Paperclip.Transport.Internal.Connection;

namespace Paperclip.Transport.Tests.Connection;

public sealed class AckStateTests
{
    [Fact]
    public void Nothing_is_owed_before_anything_arrived()
    {
        var acks = new AckState();
        Assert.False(acks.IsPending);
        Assert.False(acks.TryTake(out _, out _));
    }

    [Fact]
    public void Record_returns_false_for_a_duplicate_and_owes_its_ACK_again()
    {
        var acks = new AckState();
        Assert.True(acks.Record(5, out _));
        Assert.True(acks.TryTake(out _, out _));
        Assert.False(acks.IsPending);

        Assert.False(acks.Record(5, out var flushed));
        Assert.Null(flushed);
        Assert.True(acks.IsPending); // our first ACK was lost: the peer resent
        Assert.True(acks.TryTake(out var ackId, out _));
        Assert.Equal(5, ackId);
        Assert.True(acks.Contains(5));
        Assert.False(acks.Contains(6));
    }

    [Fact]
    public void Ids_within_ACK_ID_and_16_below_merge_into_one_ACK()
    {
        var acks = new AckState();
        foreach (var id in new ushort[] { 100, 102, 86, 101 })
        {
            acks.Record(id, out var flushed);
            Assert.Null(flushed);
        }
        Assert.True(acks.TryTake(out var ackId, out var ackBits));
        Assert.Equal(102, ackId);
        // Bit i is ACK_ID − 1 − i: 101 → bit 0, 100 → bit 1, 86 → bit 15.
        Assert.Equal(0b11 | (1 << 15), ackBits);
        Assert.False(acks.TryTake(out _, out _));
    }

    [Fact]
    public void Id_sixteen_below_ACK_ID_is_the_last_bit()
    {
        var acks = new AckState();
        acks.Record(50, out _);
        acks.Record(66, out var flushed);
        Assert.Null(flushed);
        Assert.True(acks.TryTake(out var ackId, out var ackBits));
        Assert.Equal(66, ackId);
        Assert.Equal(1 << 15, ackBits);
    }

    [Fact]
    public void Newer_id_that_does_not_fit_flushes_the_pending_ACK()
    {
        var acks = new AckState();
        acks.Record(10, out _);
        acks.Record(11, out _);
        acks.Record(27, out var flushed); // 27 − 10 = 17: one ACK cannot cover both 10 and 27
        Assert.Equal(((ushort)11, (ushort)0b1), flushed);
        Assert.True(acks.TryTake(out var ackId, out var ackBits));
        Assert.Equal(27, ackId);
        Assert.Equal(1 << 15, ackBits); // 11 is 16 below 27, reported again: harmless
    }

    [Fact]
    public void Older_id_that_does_not_fit_flushes_the_pending_ACK()
    {
        var acks = new AckState();
        acks.Record(200, out _);
        acks.Record(100, out var flushed);
        Assert.Equal(((ushort)200, (ushort)0), flushed);
        Assert.True(acks.TryTake(out var ackId, out _));
        Assert.Equal(100, ackId);
    }

    [Fact]
    public void Merging_and_duplicates_work_across_the_wrap_from_65535_to_0()
    {
        var acks = new AckState();
        foreach (var id in new ushort[] { 65534, 65535, 0, 1 })
        {
            Assert.True(acks.Record(id, out var flushed));
            Assert.Null(flushed);
        }
        Assert.True(acks.TryTake(out var ackId, out var ackBits));
        Assert.Equal(1, ackId);
        Assert.Equal(0b111, ackBits); // 0, 65535, 65534
        Assert.False(acks.Record(65535, out _));
        Assert.False(acks.Record(0, out _));
        Assert.True(acks.Record(2, out _));
    }

    [Fact]
    public void Every_id_recorded_is_covered_by_an_ACK_sent_and_is_new_exactly_once()
    {
        // Any arrival order within a window of reordering: each id must be acknowledged by some
        // ACK (flushed or taken) and reported new once.
        Gen.Int[0, 65535].Select(Gen.Int[0, 40].Array[1, 300], Gen.Int[1, 5])
            .Sample((start, offsets, takeEvery) =>
            {
                var acks = new AckState();
                var seen = new HashSet<ushort>();
                var covered = new HashSet<ushort>();
                var step = 0;
                var position = 0;
                void Cover(ushort ackId, ushort ackBits)
                {
                    covered.Add(ackId);
                    for (var i = 0; i < 16; i++)
                    {
                        if ((ackBits & (1 << i)) != 0)
                            covered.Add((ushort)(ackId - 1 - i));
                    }
                }
                foreach (var offset in offsets)
                {
                    // Ids mostly advance, with some arriving late or twice.
                    position += offset % 3;
                    var id = (ushort)(start + position - (offset % 7));
                    var isNew = acks.Record(id, out var flushed);
                    if (isNew != seen.Add(id))
                        return false;
                    if (flushed is { } ack)
                        Cover(ack.AckId, ack.AckBits);
                    if (++step % takeEvery == 0 && acks.TryTake(out var ackId, out var ackBits))
                        Cover(ackId, ackBits);
                }
                if (acks.TryTake(out var lastId, out var lastBits))
                    Cover(lastId, lastBits);
                return seen.IsSubsetOf(covered);
            }, iter: 300);
    }
}
