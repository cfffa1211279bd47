using System.Diagnostics;
using System.Reflection;
using Microsoft.Extensions.Time.Testing;
using Paperclip.Protocol;

namespace Paperclip.Transport.Tests.Hardening;

/// <summary>
/// Issue 7, scenario 6: fragment bombs from one peer and from 100 stay within the per-session
/// and global reassembly caps and are freed on timeout; a decompression bomb is refused at the
/// cap; ACKs for sequences never sent change nothing; 2,000 sessions that go silent are all
/// freed after the heartbeat timeout and their memory returns. Time is the server's fake clock.
/// </summary>
[Collection(Alone.Name)]
public sealed class ResourceTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ReassemblyBudget Budget(PaperclipServer server) =>
        (ReassemblyBudget)typeof(PaperclipServer).GetField("_reassemblyBudget", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(server)!;

    private static ReassemblyBuffer Reassembly(PaperclipConnection connection) =>
        connection.Session.ReceivePipeline.Reassembly;

    private static (ServerHarness Server, FakeTimeProvider Clock) FakeClockServer(Action<PaperclipServerOptions>? configure = null)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var server = ServerHarness.Start(o => configure?.Invoke(o), clock);
        return (server, clock);
    }

    private static RawClient Connect(ServerHarness server, FakeTimeProvider clock, long id)
    {
        var raw = new RawClient(server.EndPoint, TestPki.Account(id, server.Validator, now: clock.GetUtcNow()));
        Assert.True(raw.Handshake(), "handshake");
        return raw;
    }

    /// <summary>Sealed fragments 1 … <paramref name="sent"/> of a 255-fragment message with SEQ <paramref name="sequence"/>: never complete.</summary>
    private static void SendIncompleteSet(RawClient raw, ushort sequence, int sent, int fragmentSize = 1000)
    {
        var data = new byte[fragmentSize];
        for (var id = 1; id <= sent; id++)
        {
            var header = PacketHeader.Create(PacketType.Default, PacketFlags.Frag, sequence);
            header.FragmentId = (byte)id;
            header.FragmentCount = 255;
            raw.Send(raw.Seal(header, data));
        }
    }

    [Fact]
    public async Task Fragment_bomb_from_one_peer_stays_within_the_session_caps_and_is_freed_on_timeout()
    {
        var (server, clock) = FakeClockServer();
        await using var _ = server;
        using var raw = Connect(server, clock, 1);
        var connection = server.Joined.Next();
        var reassembly = Reassembly(connection);
        var budget = Budget(server.Server);
        var peak = 0;
        // 100 sets of 200 fragments of 1000 bytes (200 KB each): 20 MB of partial messages offered.
        for (var set = 0; set < 100; set++)
        {
            SendIncompleteSet(raw, (ushort)(100 + set), 200);
            await Wait.UntilAsync(() => connection.Statistics.DatagramsReceived >= (set + 1) * 200L, "the set arrived");
            peak = Math.Max(peak, reassembly.PartialBytes);
            Assert.True(reassembly.PartialBytes <= ProtocolConstants.MaxPartialBytes, $"{reassembly.PartialBytes} bytes held");
            Assert.True(reassembly.PartialCount <= ProtocolConstants.MaxPartialMessages);
        }
        Assert.True(budget.Used <= ProtocolConstants.MaxPartialBytes);
        Assert.True(reassembly.PartialCount > 0);

        clock.Advance(TimeSpan.FromSeconds(11));
        await Wait.UntilAsync(() => reassembly.PartialCount == 0 && budget.Used == 0, "the partial messages expired");
        Assert.True(connection.IsConnected);
        LongTests.Report($"fragment bomb, 1 peer: 100 sets x 200 fragments (20 MB offered); peak held {peak / 1024} KiB (cap 1024 KiB, {connection.Statistics.Dropped(DropReason.Reassembly)} sets refused); 0 after the 10 s timeout");
    }

    [Fact]
    public async Task Fragment_bomb_from_100_peers_stays_within_the_global_cap_and_is_freed_on_timeout()
    {
        const long Cap = 16L << 20;
        var (server, clock) = FakeClockServer(o => o.MaxReassemblyBytes = Cap);
        await using var _ = server;
        var budget = Budget(server.Server);
        var peers = new List<RawClient>();
        try
        {
            for (var i = 0; i < 100; i++)
                peers.Add(Connect(server, clock, 100 + i));
            await Wait.UntilAsync(() => server.Server.ConnectionCount == 100, "100 peers connected");
            var connections = server.Server.Connections.ToArray();
            long peak = 0;
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    peak = Math.Max(peak, budget.Used);
                    await Task.Delay(1, Token);
                }
            }, Token);
            // Each peer offers 2 MB (10 sets of 200 KB): 200 MB in all against a 16 MB cap.
            var byAccount = connections.ToDictionary(c => c.AccountId);
            for (var set = 0; set < 10; set++)
            {
                // Ten peers at a time, so that the server's socket buffer is not what refuses them.
                for (var first = 0; first < peers.Count; first += 10)
                {
                    var group = peers.Skip(first).Take(10).ToArray();
                    foreach (var peer in group)
                        SendIncompleteSet(peer, (ushort)(100 + set), 200);
                    var expected = (set + 1) * 200L;
                    await Wait.UntilAsync(() => group.All(p => byAccount[p.Account.Id].Statistics.DatagramsReceived >= expected), "the sets arrived", TimeSpan.FromSeconds(60));
                    Assert.True(budget.Used <= Cap, $"{budget.Used} bytes held");
                }
            }
            await sampling.CancelAsync();
            await sampler;
            Assert.True(peak <= Cap, $"peak {peak}");
            Assert.All(connections, c => Assert.True(Reassembly(c).PartialBytes <= ProtocolConstants.MaxPartialBytes));

            clock.Advance(TimeSpan.FromSeconds(11));
            await Wait.UntilAsync(() => budget.Used == 0 && connections.All(c => Reassembly(c).PartialCount == 0), "every partial message expired");
            Assert.Equal(100, server.Server.ConnectionCount);
            LongTests.Report($"fragment bomb, 100 peers: 200 MB offered against a 16 MiB global cap; peak held {peak / 1048576.0:F1} MiB; {connections.Sum(c => c.Statistics.Dropped(DropReason.Reassembly))} sets refused; 0 after the timeout");
        }
        finally
        {
            foreach (var peer in peers)
                peer.Dispose();
        }
    }

    [Fact]
    public async Task Decompression_bomb_is_refused_at_the_cap_and_the_session_goes_on()
    {
        await using var server = ServerHarness.Start();
        // 16 MB of zeros deflate to about 16 KB: fourteen fragments that would inflate 64 times past the cap.
        await using var client = await server.ConnectAsync(1, o => o.MaxMessageSize = 16 << 20);
        var connection = server.Joined.Next();
        client.Client.Send(new byte[16 << 20], Delivery.Unreliable, SendOptions.Compress);
        await Wait.UntilAsync(() => connection.Statistics.Dropped(DropReason.Decompression) == 1, "the bomb was refused");
        Assert.Equal(ErrorCode.Of(PacketError.Data), client.Errors.Next().Code);
        Assert.Empty(server.Received);
        client.Client.Send("after the bomb"u8, Delivery.Reliable, SendOptions.Compress);
        Assert.Equal("after the bomb"u8.ToArray(), server.Received.Next().Data);
    }

    [Fact]
    public async Task Decompression_bombs_cost_the_server_no_lasting_memory()
    {
        var (server, clock) = FakeClockServer();
        await using var _ = server;
        using var raw = Connect(server, clock, 1);
        var connection = server.Joined.Next();
        // 16 MiB of zeros, deflated once here and sent as sealed COMPRESSED fragments (the sender costs the test nothing).
        var zeros = new byte[16 << 20];
        var compressed = new byte[Deflate.MaxCompressedLength(zeros.Length)];
        var length = Deflate.Compress(zeros, compressed);
        const int Chunk = 1100;
        var count = (length + Chunk - 1) / Chunk;
        void SendBomb()
        {
            var sequence = raw.NextSequence++;
            for (var i = 0; i < count; i++)
            {
                var header = PacketHeader.Create(PacketType.Default, PacketFlags.Frag | PacketFlags.Compressed, sequence);
                header.FragmentId = (byte)i;
                header.FragmentCount = (byte)count;
                raw.Send(raw.Seal(header, compressed.AsSpan(i * Chunk, Math.Min(Chunk, length - i * Chunk))));
            }
        }
        SendBomb();
        await Wait.UntilAsync(() => connection.Statistics.Dropped(DropReason.Decompression) == 1, "the bomb was refused");
        var before = GC.GetTotalMemory(forceFullCollection: true);
        for (var i = 2; i <= 51; i++)
        {
            SendBomb();
            await Wait.UntilAsync(() => connection.Statistics.Dropped(DropReason.Decompression) == i, "the bomb was refused");
        }
        var after = GC.GetTotalMemory(forceFullCollection: true);
        Assert.True(connection.IsConnected);
        LongTests.Report($"decompression bomb: 16 MiB of zeros deflated to {length / 1024} KiB ({count} fragments), refused 51 times at the 256 KiB cap; heap {after - before:+#;-#;0} bytes over the last 50");
        Assert.True(after - before < 2_000_000, $"the heap grew by {after - before} bytes");
    }

    [Fact]
    public async Task ACKs_for_sequences_never_sent_are_ignored()
    {
        var (server, clock) = FakeClockServer();
        await using var _ = server;
        using var raw = Connect(server, clock, 1);
        var connection = server.Joined.Next();
        connection.Send("unacknowledged"u8, Delivery.Reliable);
        // Sealed ACKs for every id the server has not used (it is at about 3), with every bit set.
        for (var id = 100; id < 65536; id += 7)
        {
            var ack = PacketHeader.Create(PacketType.Ack, PacketFlags.None, raw.NextSequence++);
            ack.AckId = (ushort)id;
            ack.AckBits = 0xFFFF;
            raw.Send(raw.Seal(ack, default));
        }
        await Wait.UntilAsync(() => connection.Statistics.DatagramsReceived >= 65436 / 7, "the ACKs arrived");
        // Still in flight: the next retransmission timeout sends it again.
        var retransmissions = connection.Statistics.Retransmissions;
        clock.Advance(TimeSpan.FromSeconds(1));
        await Wait.UntilAsync(() => connection.Statistics.Retransmissions > retransmissions, "the message was retransmitted");
        Assert.True(connection.IsConnected);
        Assert.Equal(0, connection.Statistics.TotalDropped);
    }

    [Fact]
    public async Task Two_thousand_silent_sessions_are_freed_after_the_heartbeat_timeout_and_their_memory_returns()
    {
        const int Sessions = 2000;
        var (server, clock) = FakeClockServer(o => o.MaxClients = 4096);
        await using var _ = server;
        var accounts = Enumerable.Range(0, Sessions).Select(i => TestPki.Account(10_000 + i, server.Validator, now: clock.GetUtcNow())).ToArray();
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        var stopwatch = Stopwatch.StartNew();
        var raws = new RawClient[Sessions];
        await Parallel.ForAsync(0, Sessions, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Token }, (i, _) =>
        {
            raws[i] = new RawClient(server.EndPoint, accounts[i]);
            Assert.True(raws[i].Handshake(), $"handshake {i}");
            return ValueTask.CompletedTask;
        });
        await Wait.UntilAsync(() => server.Server.ConnectionCount == Sessions, "every session joined", TimeSpan.FromSeconds(60));
        var handshakes = stopwatch.Elapsed;
        foreach (var raw in raws)
            raw.Dispose(); // silent from now on
        var withSessions = GC.GetTotalMemory(forceFullCollection: true);

        clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(Sessions, server.Server.ConnectionCount); // pinged, not yet dropped
        clock.Advance(TimeSpan.FromSeconds(61));
        await Wait.UntilAsync(() => server.Server.ConnectionCount == 0, "every silent session was dropped");
        // Drained rather than enumerated: an enumerated ConcurrentQueue keeps what is taken from it.
        var timedOut = 0;
        while (server.Left.TryTake(out var left))
            timedOut += left.Reason == DisconnectReason.Timeout ? 1 : 0;
        Assert.Equal(Sessions, timedOut);
        while (server.Joined.TryTake(out var _1))
        {
        }
        Array.Clear(raws);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        LongTests.Report($"silent sessions: {Sessions} handshakes in {handshakes.TotalSeconds:F1} s; heap {baseline / 1e6:F1} MB -> {withSessions / 1e6:F1} MB with the sessions ({(withSessions - baseline) / Sessions / 1024.0:F1} KiB each) -> {after / 1e6:F1} MB after the heartbeat timeout");
        Assert.True(after - baseline < 5_000_000, $"{after - baseline} bytes stayed");
    }
}
