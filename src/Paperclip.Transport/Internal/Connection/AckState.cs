using Paperclip.Protocol;

namespace Paperclip.Transport.Internal.Connection;

/// <summary>
/// The receiving side of reliability (protocol §4): which RELIABLE ids arrived (exactly-once
/// delivery) and the ACK owed for them. One ACK covers ACK_ID and the 16 ids below it, so ids
/// that arrive together are merged into one; an id that does not fit the pending ACK sends it
/// first.
/// </summary>
internal sealed class AckState
{
    private readonly ReceivedWindow _received = new();
    private bool _pending;
    private ushort _ackId;
    private ushort _ackOldest;

    /// <summary>True when an ACK is owed.</summary>
    public bool IsPending => _pending;

    /// <summary>True when <paramref name="sequence"/> was received before.</summary>
    public bool Contains(ushort sequence) => _received.Contains(sequence);

    /// <summary>
    /// Records a RELIABLE id and owes its ACK (again, for a duplicate: the peer missed ours).
    /// When the owed ACK cannot take it, <paramref name="flushed"/> holds the ACK to send first.
    /// </summary>
    /// <returns>False when the id was received before.</returns>
    public bool Record(ushort sequence, out (ushort AckId, ushort AckBits)? flushed)
    {
        flushed = null;
        var first = _received.Record(sequence);
        if (!_pending)
        {
            _pending = true;
            _ackId = _ackOldest = sequence;
        }
        else if (SequenceNumber.IsNewer(sequence, _ackId))
        {
            if (SequenceNumber.Distance(sequence, _ackOldest) > 16)
            {
                flushed = (_ackId, _received.AckBits(_ackId));
                _ackOldest = sequence;
            }
            _ackId = sequence;
        }
        else if (SequenceNumber.Distance(_ackId, sequence) > 16)
        {
            flushed = (_ackId, _received.AckBits(_ackId));
            _ackId = _ackOldest = sequence;
        }
        else if (SequenceNumber.IsNewer(_ackOldest, sequence))
        {
            _ackOldest = sequence;
        }
        return first;
    }

    /// <summary>Takes the owed ACK, if any.</summary>
    public bool TryTake(out ushort ackId, out ushort ackBits)
    {
        ackId = _ackId;
        ackBits = _pending ? _received.AckBits(_ackId) : (ushort)0;
        if (!_pending)
            return false;
        _pending = false;
        return true;
    }
}
