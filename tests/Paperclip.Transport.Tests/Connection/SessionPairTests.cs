using System.Buffers.Binary;
using Microsoft.Extensions.Time.Testing;
using Paperclip.Protocol;
using Paperclip.Transport.Internal.Connection;
using Paperclip.Transport.Internal.Io;

namespace Paperclip.Transport.Tests.Connection;

/// <summary>
/// Two session cores over an in-memory link that loses, duplicates and reorders datagrams, on a
/// fake clock, driven step by step as the I/O loop would (in the manner of reliable.io's soak):
/// no sockets, no threads, no real time, so a seed reproduces a failure exactly.
/// </summary>
public sealed class SessionPairTests
{
    private const int StepMs = 2;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Every_reliable_message_arrives_once_and_intact_over_a_lossy_duplicating_reordering_link(int seed)
    {
        var pair = new Pair(seed, loss: 0.20, duplicates: 0.10, maxHoldSteps: 12);
        pair.Run(reliablePerSide: 1500, unreliablePerSide: 600);

        pair.AssertDeliveredExactlyOnce();
        Assert.True(pair.Client.Statistics.Retransmissions > 0 && pair.Server.Statistics.Retransmissions > 0);
        Assert.True(pair.Client.Statistics.Dropped(DropReason.Replay) + pair.Server.Statistics.Dropped(DropReason.Replay) > 0, "duplicated datagrams were caught as replays");
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    public void Nothing_is_retransmitted_over_a_link_that_loses_nothing(int seed)
    {
        // A fixed delay and no reordering: every ACK comes back within the RTO.
        var pair = new Pair(seed, loss: 0, duplicates: 0, maxHoldSteps: 0, fixedHoldSteps: 5);
        pair.Run(reliablePerSide: 1500, unreliablePerSide: 600);

        pair.AssertDeliveredExactlyOnce();
        Assert.Equal(600, pair.ClientUnreliableReceived);
        Assert.Equal(600, pair.ServerUnreliableReceived);
        Assert.Equal(0, pair.Client.Statistics.Retransmissions);
        Assert.Equal(0, pair.Server.Statistics.Retransmissions);
        Assert.Equal(0, pair.Client.Statistics.TotalDropped + pair.Server.Statistics.TotalDropped);
    }

    private sealed class Pair
    {
        private readonly Random _random;
        private readonly FakeTimeProvider _clock = new(DateTimeOffset.UnixEpoch);
        private readonly Link _toServer;
        private readonly Link _toClient;
        private readonly int _seed;
        private readonly Dictionary<int, int> _reliableAtServer = [];
        private readonly Dictionary<int, int> _reliableAtClient = [];
        private readonly HashSet<int> _unreliableAtServer = [];
        private readonly HashSet<int> _unreliableAtClient = [];
        private int _reliableTotal;
        private long _now = 1_000;
        private int _step;

        public Pair(int seed, double loss, double duplicates, int maxHoldSteps, int fixedHoldSteps = 0)
        {
            _seed = seed;
            _random = new Random(seed);
            _clock.Advance(TimeSpan.FromMilliseconds(_now));
            var settings = CoreKit.Settings(_clock);
            _toServer = new Link(_random, loss, duplicates, maxHoldSteps, fixedHoldSteps, () => _step);
            _toClient = new Link(_random, loss, duplicates, maxHoldSteps, fixedHoldSteps, () => _step);
            Client = new TestCore(settings, _toServer, _now) { OnDelivered = (data, flags) => Delivered(data, flags, _reliableAtClient, _unreliableAtClient, fromClient: false) };
            Server = new TestCore(settings, _toClient, _now) { OnDelivered = (data, flags) => Delivered(data, flags, _reliableAtServer, _unreliableAtServer, fromClient: true) };
            using var keys = CoreKit.Keys((byte)seed);
            Client.Activate(keys, isClient: true, ProtocolConstants.Version2, _now);
            Server.Activate(keys, isClient: false, ProtocolConstants.Version2, _now);
            // Start near the end of the 16-bit sequence space: the run crosses 65535 → 0.
            Client.ContinueSequenceAt(65_000);
            Server.ContinueSequenceAt(64_000);
        }

        public TestCore Client { get; }

        public TestCore Server { get; }

        public int ClientUnreliableReceived => _unreliableAtClient.Count;

        public int ServerUnreliableReceived => _unreliableAtServer.Count;

        public void Run(int reliablePerSide, int unreliablePerSide)
        {
            _reliableTotal = reliablePerSide;
            int reliableSent = 0, unreliableSent = 0;
            // Simulated time is bounded well inside the reliable timeout (30 s) of any one message.
            for (_step = 0; _step < 200_000; _step++)
            {
                _now += StepMs;
                _clock.Advance(TimeSpan.FromMilliseconds(StepMs));
                // The application sends a few messages each step, both ways.
                for (var i = 0; i < 3 && reliableSent < reliablePerSide; i++, reliableSent++)
                {
                    Client.SendMessage(Payload(reliableSent, fromClient: true, reliable: true), Delivery.Reliable, Options());
                    Server.SendMessage(Payload(reliableSent, fromClient: false, reliable: true), Delivery.Reliable, Options());
                }
                if (unreliableSent < unreliablePerSide && _step % 2 == 0)
                {
                    Client.SendMessage(Payload(unreliableSent, fromClient: true, reliable: false), Delivery.Unreliable, Options());
                    Server.SendMessage(Payload(unreliableSent, fromClient: false, reliable: false), Delivery.Unreliable, Options());
                    unreliableSent++;
                }
                _toServer.DeliverDue(Server, _now);
                _toClient.DeliverDue(Client, _now);
                foreach (var core in new[] { Client, Server })
                {
                    Assert.Null(core.ClosedReason);
                    if (_now >= core.Deadline)
                        core.OnTimer(_now);
                    if (core.HasOutput)
                        core.Flush(_now, _clock.GetTimestamp());
                }
                if (reliableSent == reliablePerSide && unreliableSent == unreliablePerSide && Settled())
                    return;
            }
            Assert.Fail($"seed {_seed}: not settled after {_step} steps: server has {_reliableAtServer.Count}, client {_reliableAtClient.Count} of {reliablePerSide}; in flight {Client.Sent.InFlightCount}/{Server.Sent.InFlightCount}, backlog {Client.Sent.BacklogCount}/{Server.Sent.BacklogCount}");
        }

        public void AssertDeliveredExactlyOnce()
        {
            Assert.Null(Client.ClosedReason);
            Assert.Null(Server.ClosedReason);
            Assert.Empty(Client.Errors);
            Assert.Empty(Server.Errors);
            Assert.Equal(Enumerable.Range(0, _reliableTotal), _reliableAtServer.Keys.Order());
            Assert.Equal(Enumerable.Range(0, _reliableTotal), _reliableAtClient.Keys.Order());
            Assert.All(_reliableAtServer.Values.Concat(_reliableAtClient.Values), count => Assert.Equal(1, count));
            Assert.Equal(0, Client.Sent.InFlightCount + Client.Sent.BacklogCount + Client.Sent.InFlightPackets);
            Assert.Equal(0, Server.Sent.InFlightCount + Server.Sent.BacklogCount + Server.Sent.InFlightPackets);
            Assert.Equal(0, Client.ReceivePipeline.Reassembly.PartialCount + Server.ReceivePipeline.Reassembly.PartialCount);
            Assert.Equal(0, Client.Statistics.Dropped(DropReason.Authentication) + Server.Statistics.Dropped(DropReason.Authentication));
        }

        private bool Settled() =>
            _reliableAtServer.Count == _reliableTotal && _reliableAtClient.Count == _reliableTotal
            && Client.Sent.InFlightCount == 0 && Server.Sent.InFlightCount == 0
            && Client.Sent.BacklogCount == 0 && Server.Sent.BacklogCount == 0
            && !Client.HasOutput && !Server.HasOutput && _toServer.IsEmpty && _toClient.IsEmpty
            && Client.ReceivePipeline.Reassembly.PartialCount == 0 && Server.ReceivePipeline.Reassembly.PartialCount == 0;

        private SendOptions Options() => (SendOptions)_random.Next(4); // checksum and compression at random

        // Sizes: mostly small, a quarter a few datagrams, some large ones up to 50 KB (RELIABLE only).
        private byte[] Payload(int index, bool fromClient, bool reliable)
        {
            var roll = _random.NextDouble();
            var size = roll < 0.70 ? _random.Next(9, 400)
                : roll < 0.95 || !reliable ? _random.Next(400, reliable ? 5_000 : 3_000)
                : _random.Next(5_000, 50_000);
            var data = new byte[size];
            BinaryPrimitives.WriteInt32LittleEndian(data, index);
            data[4] = (byte)((fromClient ? 1 : 0) | (reliable ? 2 : 0));
            BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(5), size);
            Fill(data.AsSpan(9), index, data[4]);
            return data;
        }

        private static void Fill(Span<byte> body, int index, byte kind)
        {
            var state = (uint)((index * 2654435761) ^ kind);
            for (var i = 0; i < body.Length; i++)
            {
                // Runs of equal bytes, so that compression has something to do.
                if (i % 16 == 0)
                    state = (state * 1664525) + 1013904223;
                body[i] = (byte)(state >> 24);
            }
        }

        private static void Delivered(byte[] data, PacketFlags flags, Dictionary<int, int> reliable, HashSet<int> unreliable, bool fromClient)
        {
            Assert.True(data.Length >= 9, "a message arrived whole");
            var index = BinaryPrimitives.ReadInt32LittleEndian(data);
            var kind = data[4];
            Assert.Equal(fromClient, (kind & 1) != 0);
            Assert.Equal(BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(5)), data.Length);
            var expected = new byte[data.Length - 9];
            Fill(expected, index, kind);
            Assert.True(expected.AsSpan().SequenceEqual(data.AsSpan(9)), $"message {index} arrived intact");
            var isReliable = (kind & 2) != 0;
            Assert.Equal(isReliable, (flags & PacketFlags.Reliable) != 0);
            if (isReliable)
                reliable[index] = reliable.GetValueOrDefault(index) + 1;
            else
                Assert.True(unreliable.Add(index), $"unreliable message {index} arrived twice");
        }
    }

    /// <summary>One direction of the in-memory network: loses, duplicates and holds datagrams for a random number of steps.</summary>
    private sealed class Link(Random random, double loss, double duplicates, int maxHoldSteps, int fixedHoldSteps, Func<int> step) : IDatagramSink
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
                if (PacketReader.TryRead(datagram, out var header, out var error))
                    receiver.Receive(datagram, header, now);
                else
                    receiver.OnMalformed(error);
            }
        }
    }
}
