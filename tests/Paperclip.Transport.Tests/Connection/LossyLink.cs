using Paperclip.Protocol;
using Paperclip.Transport.Internal.Connection;
using Paperclip.Transport.Internal.Io;

namespace Paperclip.Transport.Tests.Connection;

/// <summary>One direction of the in-memory network: loses, duplicates and holds datagrams for a random number of steps.</summary>
internal sealed class LossyLink(Random random, double loss, double duplicates, int maxHoldSteps, int fixedHoldSteps, Func<int> step) : IDatagramSink
{
    private readonly List<(int DueStep, byte[] Datagram)> _inTransit = [];

    public bool IsEmpty => _inTransit.Count == 0;

    public void Send(ReadOnlySpan<byte> datagram, System.Net.SocketAddress to)
    {
        if (random.NextDouble() < loss)
            return;
        var copies = random.NextDouble() < duplicates ? 2 : 1;
        for (var i = 0; i < copies; i++)
            _inTransit.Add((step() + fixedHoldSteps + random.Next(maxHoldSteps + 1), datagram.ToArray()));
    }

    public void DeliverDue(SessionCore receiver, long now)
    {
        var current = step();
        // In the order sent among those due at the same step; held ones fall behind later ones.
        var due = _inTransit.Where(d => d.DueStep <= current).ToList();
        _inTransit.RemoveAll(d => d.DueStep <= current);
        foreach (var (_, datagram) in due)
        {
            if (PacketReader.TryRead(datagram, ProtocolConstants.LatestVersion, out var header, out var error))
                receiver.Receive(datagram, header, now);
            else
                receiver.OnMalformed(error);
        }
    }
}
