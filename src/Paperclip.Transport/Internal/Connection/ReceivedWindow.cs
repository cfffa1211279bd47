using Paperclip.Protocol;

namespace Paperclip.Transport.Internal.Connection;

/// <summary>
/// The RELIABLE sequence ids received over the last 32768 ids (protocol §4): answers "seen
/// before?" for exactly-once delivery and fills ACK_BITS. One bit per id of the 16-bit space;
/// the bits an advancing highest id moves into are cleared, so ids from before a wrap never
/// count as seen.
/// </summary>
internal sealed class ReceivedWindow
{
    private readonly ulong[] _bits = new ulong[65536 / 64];
    private ushort _highest;
    private bool _any;

    /// <summary>Marks <paramref name="sequence"/> received; false when it already was (a duplicate).</summary>
    public bool Record(ushort sequence)
    {
        if (!_any)
        {
            _any = true;
            _highest = sequence;
        }
        else if (SequenceNumber.IsNewer(sequence, _highest))
        {
            for (var id = (ushort)(_highest + 1); id != sequence; id++)
                Clear(id);
            Clear(sequence);
            _highest = sequence;
        }
        if (Has(sequence))
            return false;
        _bits[sequence >> 6] |= 1UL << (sequence & 63);
        return true;
    }

    /// <summary>True when <paramref name="sequence"/> was recorded (and not cleared by the window moving on).</summary>
    public bool Contains(ushort sequence) => _any && Has(sequence);

    /// <summary>ACK_BITS for <paramref name="ackId"/>: bit i is set when ACK_ID − 1 − i was received.</summary>
    public ushort AckBits(ushort ackId)
    {
        var bits = 0;
        for (var i = 0; i < 16; i++)
        {
            if (Has((ushort)(ackId - 1 - i)))
                bits |= 1 << i;
        }
        return (ushort)bits;
    }

    private bool Has(ushort id) => (_bits[id >> 6] & (1UL << (id & 63))) != 0;

    private void Clear(ushort id) => _bits[id >> 6] &= ~(1UL << (id & 63));
}
