using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Paperclip.Transport.Internal;
using Paperclip.Transport.Internal.Io;

namespace Paperclip.Transport.Tests.Io;

/// <summary>
/// What only the io_uring engine does, on real loopback sockets: receives that run out of the
/// loop's provided buffers and are re-armed, and sockets that close while their receives are
/// armed. Skipped where the kernel does not allow io_uring (the reason is printed).
/// </summary>
public sealed class IoUringEngineTests
{
    private const int PerEndpoint = 100; // fits a default 208 KiB socket receive buffer

    private static UdpEndpoint Open(IDatagramHandler handler, IoLoop? loop = null)
    {
        var settings = new TransportSettings(new PaperclipClientOptions { SocketEngine = SocketEngine.IoUring });
        var endpoint = new UdpEndpoint(new IPEndPoint(IPAddress.Loopback, 0), handler, settings, new Clock(TimeProvider.System), NullLogger.Instance, loop);
        endpoint.Start();
        return endpoint;
    }

    private static byte[] Numbered(int endpoint, int index)
    {
        var data = new byte[40];
        BitConverter.TryWriteBytes(data, endpoint);
        BitConverter.TryWriteBytes(data.AsSpan(4), index);
        return data;
    }

    [Fact]
    public async Task Datagrams_past_the_provided_buffers_wait_in_their_sockets_and_all_arrive_in_order()
    {
        Assert.SkipWhen(IoUringRing.UnavailableReason is not null, IoUringRing.UnavailableReason ?? "");
        var received = new BlockingCollection<(int Endpoint, byte[] Data)>();
        // A loop of its own with 16 buffers: 20 sockets hold many times that at once.
        var loop = new IoUringLoop("io_uring test loop", NullLogger.Instance, smallBuffers: 16);
        loop.Start();
        const int count = 20;
        var endpoints = Enumerable.Range(0, count).Select(i => Open(new ReceivedInto(received, i), loop)).ToArray();
        try
        {
            using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            sender.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            // A datagram to each first: every receive is armed before the loops stop.
            for (var i = 0; i < count; i++)
                sender.SendTo(Numbered(i, -1), endpoints[i].LocalEndPoint);
            for (var i = 0; i < count; i++)
                Assert.Equal(-1, BitConverter.ToInt32(received.Next().Data, 4));

            var loops = new[] { loop };
            var shortfallsBefore = loop.BufferShortfalls;
            var cancellation = TestContext.Current.CancellationToken; // TestContext is not there on the loops' threads
            using var gate = new ManualResetEventSlim();
            using var stopped = new CountdownEvent(loops.Length);
            var held = loops.Select(l => l.InvokeAsync(() =>
            {
                stopped.Signal();
                gate.Wait(Wait.Timeout, cancellation);
            })).ToArray();
            Assert.True(stopped.Wait(Wait.Timeout, TestContext.Current.CancellationToken), "the loops did not stop");
            for (var n = 0; n < PerEndpoint; n++)
            {
                for (var i = 0; i < count; i++)
                    sender.SendTo(Numbered(i, n), endpoints[i].LocalEndPoint);
            }
            gate.Set();
            await Task.WhenAll(held);

            var next = new int[count];
            for (var k = 0; k < count * PerEndpoint; k++)
            {
                var (endpoint, data) = received.Next();
                Assert.Equal(endpoint, BitConverter.ToInt32(data, 0));
                Assert.Equal(next[endpoint]++, BitConverter.ToInt32(data, 4));
            }
            Assert.All(next, n => Assert.Equal(PerEndpoint, n));
            Assert.True(loop.BufferShortfalls > shortfallsBefore, "no receive ran out of buffers: the test did not cover the re-arm");
        }
        finally
        {
            foreach (var endpoint in endpoints)
                await endpoint.DisposeAsync();
        }
    }

    [Fact]
    public async Task Sockets_closed_while_receiving_leave_the_others_and_their_places_working()
    {
        Assert.SkipWhen(IoUringRing.UnavailableReason is not null, IoUringRing.UnavailableReason ?? "");
        var received = new BlockingCollection<(int Endpoint, byte[] Data)>();
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var open = new Dictionary<int, UdpEndpoint>();
        try
        {
            var id = 0;
            for (var round = 0; round < 5; round++)
            {
                for (var i = 0; i < 40; i++, id++)
                    open[id] = Open(new ReceivedInto(received, id));
                // Datagrams in flight to every socket, then half of them closed at once.
                foreach (var (key, endpoint) in open)
                    sender.SendTo(Numbered(key, round), endpoint.LocalEndPoint);
                var closing = open.Keys.Where(k => k % 2 == round % 2).ToArray();
                await Task.WhenAll(closing.Select(k => open[k].DisposeAsync().AsTask()));
                foreach (var key in closing)
                    open.Remove(key);
                // Every socket still open receives (ones opened into freed places too).
                var marker = 1000 + round;
                foreach (var (key, endpoint) in open)
                    sender.SendTo(Numbered(key, marker), endpoint.LocalEndPoint);
                var waiting = new HashSet<int>(open.Keys);
                while (waiting.Count > 0)
                {
                    var (endpoint, data) = received.Next();
                    Assert.Equal(endpoint, BitConverter.ToInt32(data, 0));
                    if (BitConverter.ToInt32(data, 4) == marker)
                        waiting.Remove(endpoint);
                }
            }
        }
        finally
        {
            foreach (var endpoint in open.Values)
                await endpoint.DisposeAsync();
        }
    }

    private sealed class ReceivedInto(BlockingCollection<(int Endpoint, byte[] Data)> into, int id) : IDatagramHandler
    {
        public void OnDatagram(Span<byte> datagram, SocketAddress from) => into.Add((id, datagram.ToArray()));
    }
}
