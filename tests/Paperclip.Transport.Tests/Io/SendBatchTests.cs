using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Paperclip.Transport.Internal;
using Paperclip.Transport.Internal.Io;

namespace Paperclip.Transport.Tests.Io;

/// <summary>
/// An endpoint's send path on real loopback sockets, on both engines: sends made on the loop's
/// thread (as sessions flush) leave at the end of the turn, in one sendmmsg per socket on epoll;
/// the portable engine and sends from other threads go through .NET's socket one by one.
/// </summary>
public sealed class SendBatchTests
{
    public static TheoryData<SocketEngine> Engines => TestEngines.All;

    private sealed class Ignore : IDatagramHandler
    {
        public void OnDatagram(Span<byte> datagram, SocketAddress from)
        {
        }
    }

    private static UdpEndpoint Open(SocketEngine engine, int maxDatagramSize = 1200)
    {
        var settings = new TransportSettings(new PaperclipClientOptions { SocketEngine = engine, MaxDatagramSize = maxDatagramSize });
        var endpoint = new UdpEndpoint(new IPEndPoint(IPAddress.Loopback, 0), new Ignore(), settings, new Clock(TimeProvider.System), NullLogger.Instance);
        endpoint.Start();
        return endpoint;
    }

    private static Socket Receiver()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
        {
            ReceiveBufferSize = 4 << 20, // a whole turn's burst waits here
            ReceiveTimeout = (int)Wait.Timeout.TotalMilliseconds,
        };
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private static SocketAddress AddressOf(Socket socket) => ((IPEndPoint)socket.LocalEndPoint!).Serialize();

    private static byte[] Numbered(int destination, int index, int length = 40)
    {
        var data = new byte[length];
        BitConverter.TryWriteBytes(data, destination);
        BitConverter.TryWriteBytes(data.AsSpan(4), index);
        data.AsSpan(8).Fill((byte)(destination + index));
        return data;
    }

    private static byte[] ReceiveOne(Socket socket)
    {
        var buffer = new byte[65_536];
        return buffer.AsSpan(0, socket.Receive(buffer)).ToArray();
    }

    private static long Batched(UdpEndpoint endpoint) => endpoint.Loop is NativeLoop native ? native.Sends.DatagramsBatched : 0;

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task A_burst_sent_in_one_turn_arrives_whole_and_in_order(SocketEngine engine)
    {
        var endpoint = Open(engine);
        await using var _ = endpoint;
        using var receiver = Receiver();
        var to = AddressOf(receiver);
        const int count = 300; // several sets of send slots in one turn
        var before = Batched(endpoint);

        await endpoint.Loop.InvokeAsync(() =>
        {
            for (var i = 0; i < count; i++)
                endpoint.Send(Numbered(1, i, 40 + (i % 9)), to);
        });

        for (var i = 0; i < count; i++)
            Assert.Equal(Numbered(1, i, 40 + (i % 9)), ReceiveOne(receiver));
        if (engine != SocketEngine.Portable)
            Assert.True(Batched(endpoint) - before >= count, "the loop's sends did not go through sendmmsg");
    }

    private static readonly int[] RunLengths = [1000, 1000, 1000, 300, 1000, 1200, 1200, 40, 1100];

    private static long Segmented(UdpEndpoint endpoint) => endpoint.Loop is NativeLoop native ? native.Sends.DatagramsSegmented : 0;

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Runs_of_one_length_to_one_destination_arrive_as_the_datagrams_sent(SocketEngine engine)
    {
        var endpoint = Open(engine);
        await using var _ = endpoint;
        using var first = Receiver();
        using var second = Receiver();
        var toFirst = AddressOf(first);
        var toSecond = AddressOf(second);
        // Per destination, in send order: runs of one length ended by a shorter datagram, a
        // longer one (a run cannot take it), one datagram alone, and a run past the segment limit.
        var lengths = RunLengths.Concat(Enumerable.Repeat(500, 150)).Append(20).ToArray();
        var segmentedBefore = Segmented(endpoint);

        await endpoint.Loop.InvokeAsync(() =>
        {
            for (var i = 0; i < lengths.Length; i++)
            {
                endpoint.Send(Numbered(1, i, lengths[i]), toFirst);
                if (i % 50 == 0)
                    endpoint.Send(Numbered(2, i, lengths[i]), toSecond); // another destination between them
            }
        });

        for (var i = 0; i < lengths.Length; i++)
            Assert.Equal(Numbered(1, i, lengths[i]), ReceiveOne(first));
        for (var i = 0; i < lengths.Length; i += 50)
            Assert.Equal(Numbered(2, i, lengths[i]), ReceiveOne(second));
        if (engine != SocketEngine.Portable)
            Assert.True(Segmented(endpoint) - segmentedBefore >= 100, "no run left as one segmented (GSO) message");
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Interleaved_sends_to_many_destinations_each_arrive_in_their_own_order(SocketEngine engine)
    {
        var endpoint = Open(engine);
        await using var _ = endpoint;
        var receivers = Enumerable.Range(0, 40).Select(_ => Receiver()).ToArray();
        try
        {
            var addresses = receivers.Select(AddressOf).ToArray();
            await endpoint.Loop.InvokeAsync(() =>
            {
                for (var round = 0; round < 4; round++) // 160 datagrams: more than one set of slots
                    for (var r = 0; r < receivers.Length; r++)
                        endpoint.Send(Numbered(r, round), addresses[r]);
            });

            for (var r = 0; r < receivers.Length; r++)
                for (var round = 0; round < 4; round++)
                    Assert.Equal(Numbered(r, round), ReceiveOne(receivers[r]));
        }
        finally
        {
            foreach (var receiver in receivers)
                receiver.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Refused_and_invalid_destinations_lose_nothing_sent_to_the_others(SocketEngine engine)
    {
        var endpoint = Open(engine);
        await using var _ = endpoint;
        using var live = Receiver();
        using var other = Receiver();
        int deadPort;
        using (var dead = Receiver())
            deadPort = ((IPEndPoint)dead.LocalEndPoint!).Port; // closed: the kernel answers ICMP port unreachable
        var deadAddress = new IPEndPoint(IPAddress.Loopback, deadPort).Serialize();
        // Port 0 is refused by the kernel on the call itself (EINVAL): sendmmsg stops there, having
        // sent the ones before it, and the rest must still leave.
        var invalidAddress = new IPEndPoint(IPAddress.Loopback, 0).Serialize();
        var liveAddress = AddressOf(live);
        var otherAddress = AddressOf(other);

        await endpoint.Loop.InvokeAsync(() =>
        {
            for (var i = 0; i < 20; i++)
            {
                endpoint.Send(Numbered(2, i), deadAddress);
                endpoint.Send(Numbered(3, i), liveAddress);
                if (i % 3 == 0)
                    endpoint.Send(Numbered(5, i), invalidAddress);
                endpoint.Send(Numbered(4, i), otherAddress);
            }
        });
        // And a later turn still sends: nothing was left behind or stuck.
        await endpoint.Loop.InvokeAsync(() => endpoint.Send(Numbered(3, 20), liveAddress));

        for (var i = 0; i <= 20; i++)
            Assert.Equal(Numbered(3, i), ReceiveOne(live));
        for (var i = 0; i < 20; i++)
            Assert.Equal(Numbered(4, i), ReceiveOne(other));
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task A_datagram_too_large_for_a_slot_keeps_its_place_in_the_order(SocketEngine engine)
    {
        var endpoint = Open(engine, maxDatagramSize: 9000);
        await using var _ = endpoint;
        using var receiver = Receiver();
        var to = AddressOf(receiver);
        var lengths = new[] { 100, 3000, 200, 8000, 300, 1200, 2049, 40 };

        await endpoint.Loop.InvokeAsync(() =>
        {
            for (var i = 0; i < lengths.Length; i++)
                endpoint.Send(Numbered(6, i, lengths[i]), to);
        });

        for (var i = 0; i < lengths.Length; i++)
            Assert.Equal(Numbered(6, i, lengths[i]), ReceiveOne(receiver));
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Datagrams_sent_on_the_loop_just_before_the_socket_closes_still_leave(SocketEngine engine)
    {
        var endpoint = Open(engine);
        using var receiver = Receiver();
        var to = AddressOf(receiver);
        Task? closed = null;

        // As a session's close does: its last datagrams, then the socket closes in the same turn.
        await endpoint.Loop.InvokeAsync(() =>
        {
            for (var i = 0; i < 10; i++)
                endpoint.Send(Numbered(7, i), to);
            closed = endpoint.DisposeAsync().AsTask();
        });
        await closed!;

        for (var i = 0; i < 10; i++)
            Assert.Equal(Numbered(7, i), ReceiveOne(receiver));
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Sends_from_other_threads_beside_the_loops_all_arrive(SocketEngine engine)
    {
        var endpoint = Open(engine);
        await using var _ = endpoint;
        using var receiver = Receiver();
        var to = AddressOf(receiver);

        // A handshake's answer leaves from the thread pool while sessions flush on the loop.
        var fromLoop = endpoint.Loop.InvokeAsync(() =>
        {
            for (var i = 0; i < 100; i++)
                endpoint.Send(Numbered(8, i), to);
        });
        var fromPool = Task.Run(() =>
        {
            for (var i = 0; i < 100; i++)
                endpoint.Send(Numbered(9, i), to);
        }, TestContext.Current.CancellationToken);
        await Task.WhenAll(fromLoop, fromPool);

        var next = new Dictionary<int, int> { [8] = 0, [9] = 0 };
        for (var n = 0; n < 200; n++)
        {
            var data = ReceiveOne(receiver);
            var source = BitConverter.ToInt32(data);
            Assert.Equal(Numbered(source, next[source]), data); // each thread's own order holds
            next[source]++;
        }
    }
}
