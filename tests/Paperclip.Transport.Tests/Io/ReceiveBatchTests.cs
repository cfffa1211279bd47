using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Paperclip.Transport.Internal;
using Paperclip.Transport.Internal.Io;

namespace Paperclip.Transport.Tests.Io;

/// <summary>
/// An endpoint's receive path on real loopback sockets, on both engines: epoll (recvmmsg into the
/// loop's slots, or recvfrom for endpoints whose datagrams exceed a slot) and portable.
/// </summary>
public sealed class ReceiveBatchTests
{
    public static TheoryData<SocketEngine> Engines => TestEngines.All;

    private sealed class Collector : IDatagramHandler
    {
        public BlockingCollection<(byte[] Data, IPEndPoint From)> Received { get; } = new();

        public void OnDatagram(Span<byte> datagram, SocketAddress from) =>
            Received.Add((datagram.ToArray(), (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(from)));
    }

    private static (UdpEndpoint Endpoint, Collector Collector, IPEndPoint Address) Open(SocketEngine engine, int maxDatagramSize = 1200)
    {
        var settings = new TransportSettings(new PaperclipClientOptions { SocketEngine = engine, MaxDatagramSize = maxDatagramSize });
        var collector = new Collector();
        var endpoint = new UdpEndpoint(new IPEndPoint(IPAddress.Loopback, 0), collector, settings, new Clock(TimeProvider.System), NullLogger.Instance);
        endpoint.Start();
        return (endpoint, collector, new IPEndPoint(IPAddress.Loopback, endpoint.LocalEndPoint.Port));
    }

    private static Socket Sender()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private static byte[] Numbered(int sender, int index, int length = 40)
    {
        var data = new byte[length];
        BitConverter.TryWriteBytes(data, sender);
        BitConverter.TryWriteBytes(data.AsSpan(4), index);
        data.AsSpan(8).Fill((byte)(sender + index));
        return data;
    }

    private static int Port(IPEndPoint endPoint) => endPoint.Port;

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task A_burst_from_one_peer_arrives_whole_and_in_order(SocketEngine engine)
    {
        var (endpoint, collector, address) = Open(engine);
        await using var _ = endpoint;
        using var sender = Sender();
        const int count = 300; // more than a recvmmsg batch and more than a burst per wake-up
        for (var i = 0; i < count; i++)
            sender.SendTo(Numbered(1, i, 40 + (i % 7)), address);

        for (var i = 0; i < count; i++)
        {
            var (data, from) = collector.Received.Next();
            Assert.Equal(Numbered(1, i, 40 + (i % 7)), data);
            Assert.Equal(((IPEndPoint)sender.LocalEndPoint!).Port, Port(from));
        }
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Datagrams_of_many_peers_each_carry_their_own_source(SocketEngine engine)
    {
        var (endpoint, collector, address) = Open(engine);
        await using var _ = endpoint;
        var senders = Enumerable.Range(0, 60).Select(_ => Sender()).ToArray();
        try
        {
            for (var round = 0; round < 3; round++)
                for (var s = 0; s < senders.Length; s++)
                    senders[s].SendTo(Numbered(s, round), address);

            var expected = new HashSet<(int Sender, int Round)>();
            for (var s = 0; s < senders.Length; s++)
                for (var round = 0; round < 3; round++)
                    expected.Add((s, round));
            while (expected.Count > 0)
            {
                var (data, from) = collector.Received.Next();
                var s = BitConverter.ToInt32(data);
                var round = BitConverter.ToInt32(data, 4);
                Assert.Equal(Numbered(s, round), data);
                Assert.Equal(((IPEndPoint)senders[s].LocalEndPoint!).Port, Port(from));
                Assert.True(expected.Remove((s, round)), $"({s}, {round}) twice");
            }
        }
        finally
        {
            foreach (var sender in senders)
                sender.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Oversize_datagrams_are_dropped_and_the_ones_around_them_kept(SocketEngine engine)
    {
        foreach (var max in new[] { 1200, 4000 }) // within a slot, and past it (recvfrom on epoll)
        {
            var (endpoint, collector, address) = Open(engine, max);
            await using var _ = endpoint;
            using var sender = Sender();
            var lengths = new[] { 100, max + 1, max, 5000, max + 300, 60_000, 1 };
            for (var i = 0; i < lengths.Length; i++)
                sender.SendTo(Numbered(9, i, Math.Max(lengths[i], 8)).AsSpan(0, lengths[i]), address);
            sender.SendTo(Numbered(9, 99), address); // the marker: everything before it was handled

            var kept = new List<int>();
            while (true)
            {
                var (data, _) = collector.Received.Next();
                if (data.Length == 40 && BitConverter.ToInt32(data, 4) == 99)
                    break;
                kept.Add(data.Length);
            }
            Assert.Equal(lengths.Where(l => l <= max), kept);
        }
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task A_refused_destination_loses_nothing_sent_to_or_from_the_others(SocketEngine engine)
    {
        var (endpoint, collector, address) = Open(engine);
        await using var _ = endpoint;
        using var peer = Sender();
        int deadPort;
        using (var dead = Sender())
            deadPort = ((IPEndPoint)dead.LocalEndPoint!).Port; // closed: the kernel answers ICMP port unreachable
        var deadAddress = new IPEndPoint(IPAddress.Loopback, deadPort).Serialize();
        var peerAddress = ((IPEndPoint)peer.LocalEndPoint!).Serialize();

        for (var i = 0; i < 20; i++)
        {
            endpoint.Send(Numbered(2, i), deadAddress);
            endpoint.Send(Numbered(3, i), peerAddress);
            peer.SendTo(Numbered(4, i), address);
        }

        var buffer = new byte[100];
        peer.ReceiveTimeout = (int)Wait.Timeout.TotalMilliseconds;
        for (var i = 0; i < 20; i++)
            Assert.Equal(Numbered(3, i), buffer.AsSpan(0, peer.Receive(buffer)).ToArray());
        for (var i = 0; i < 20; i++)
            Assert.Equal(Numbered(4, i), collector.Received.Next().Data);
    }
}
