using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using Paperclip.Impair;

namespace Paperclip.Transport.Tests.Hardening;

/// <summary>
/// Issue 7, scenario 2: through the impairment proxy (30 % loss in bursts of 3, 10 %
/// duplication, 10 % reordering, 1 % corruption, 50 ± 20 ms delay, both ways) 50 of 50 clients
/// connect, RELIABLE messages of random sizes arrive exactly once and intact each way, and no
/// UNRELIABLE message arrives twice. Default run: 200 messages each way up to 16 KB plus a few
/// of 200 KB; PAPERCLIP_LONG_TESTS=1: 10,000 each way up to 200 KB.
/// </summary>
[Collection(Alone.Name)]
public sealed class ImpairmentTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static DirectionSettings Bad { get; } = new()
    {
        Loss = 0.3,
        BurstLength = 3,
        Duplicate = 0.1,
        Reorder = 0.1,
        Corrupt = 0.01,
        Delay = TimeSpan.FromMilliseconds(50),
        Jitter = TimeSpan.FromMilliseconds(20),
    };

    [Fact]
    public async Task Through_a_bad_network_every_client_connects_and_reliable_messages_arrive_once_and_intact()
    {
        const int Clients = 50;
        var messages = LongTests.Pick(200, 10_000);
        var maxSize = LongTests.Pick(16 * 1024, 200 * 1024);
        var large = LongTests.Pick(4, 0); // a few of 200 KB in the fast run too
        var unreliable = LongTests.Pick(500, 5_000);

        var validator = new KnownKeysCertificateValidator();
        var toServer = new ConcurrentDictionary<(long Client, int Index), byte[]>();
        var toClients = new ConcurrentDictionary<(long Client, int Index), byte[]>();
        var receivedByServer = new ConcurrentDictionary<(long, int), int>();
        var receivedByClients = new ConcurrentDictionary<(long, int), int>();
        var corrupt = 0;
        var unreliableSeen = new ConcurrentDictionary<(long, int, bool), int>();
        var sessionsEnded = new ConcurrentQueue<string>();
        await using var server = new PaperclipServer(TestPki.Shared.ServerOptions(validator));
        server.DataReceived += (connection, data, flags) => Record(connection.AccountId, data, flags, toServer, receivedByServer, toServerSide: true);
        server.ClientLeft += (_, e) => sessionsEnded.Enqueue($"server side of {e.Connection!.AccountId}: {e.Reason} ({e.Text})");
        server.Start();
        await using var proxy = new ImpairmentProxy(ImpairmentSettings.Symmetric(server.LocalEndPoint, Bad, seed: 7));

        var clients = new PaperclipClient[Clients];
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(async i =>
        {
            var account = TestPki.Account(1000 + i, validator);
            var client = new PaperclipClient(TestPki.Shared.ClientOptions(account, o => o.HandshakeTimeout = TimeSpan.FromSeconds(10)));
            client.DataReceived += (data, flags) => Record(account.Id, data, flags, toClients, receivedByClients, toServerSide: false);
            client.Disconnected += (_, e) => sessionsEnded.Enqueue($"client {account.Id}: {e.Reason} ({e.Text})");
            clients[i] = client;
            await client.ConnectAsync(proxy.ListenEndPoint, Token).WaitAsync(TimeSpan.FromSeconds(60), Token);
        }));
        // A client is connected once it sent its Finished; the server once that arrived (perhaps resent).
        await Wait.UntilAsync(() => server.ConnectionCount == Clients, $"the server has every client ({server.ConnectionCount})", TimeSpan.FromSeconds(60));
        var handshakeTime = stopwatch.Elapsed;
        var connections = server.Connections.ToDictionary(c => c.AccountId);

        // Messages: [client id u32][index u32][random bytes]; the sender keeps a SHA-256 of each.
        var random = new Random(11);
        stopwatch.Restart();
        long bytes = 0;
        for (var i = 0; i < messages + large; i++)
        {
            var client = i % Clients;
            Assert.True(sessionsEnded.IsEmpty, $"sessions ended mid-run: {string.Join("; ", sessionsEnded)}");
            var size = i < large ? 200 * 1024 : random.Next(8, maxSize + 1);
            bytes += 2L * size;
            var up = Message(1000 + client, i, size, random);
            toServer[(1000 + client, i)] = SHA256.HashData(up);
            clients[client].Send(up, Delivery.Reliable);
            var down = Message(1000 + client, i, size, random);
            toClients[(1000 + client, i)] = SHA256.HashData(down);
            connections[1000 + client].Send(down, Delivery.Reliable);
            if (i < unreliable)
            {
                var tag = Message(1000 + client, i, 16, random);
                tag[8] = 0xEE; // marks an unreliable probe
                clients[client].Send(tag, Delivery.Unreliable);
                connections[1000 + client].Send(tag, Delivery.Unreliable);
            }
            if (i % 200 == 199)
                await Task.Yield();
        }
        var total = messages + large;
        await Wait.UntilAsync(() => (receivedByServer.Count == total && receivedByClients.Count == total) || !sessionsEnded.IsEmpty,
            $"every reliable message arrived (server {receivedByServer.Count}, clients {receivedByClients.Count} of {total})", TimeSpan.FromMinutes(LongTests.Pick(3, 60)));
        var messageTime = stopwatch.Elapsed;

        Assert.True(sessionsEnded.IsEmpty, $"sessions ended mid-run: {string.Join("; ", sessionsEnded)}");
        Assert.Equal(0, Volatile.Read(ref corrupt));
        Assert.All(receivedByServer.Values, count => Assert.Equal(1, count));
        Assert.All(receivedByClients.Values, count => Assert.Equal(1, count));
        Assert.All(unreliableSeen.Values, count => Assert.Equal(1, count));
        Assert.Equal(Clients, server.ConnectionCount);
        Assert.All(clients, c => Assert.True(c.IsConnected));

        var retransmissions = clients.Sum(c => c.Statistics.Retransmissions) + connections.Values.Sum(c => c.Statistics.Retransmissions);
        var checksumDrops = clients.Sum(c => c.Statistics.TotalDropped) + connections.Values.Sum(c => c.Statistics.TotalDropped);
        LongTests.Report($"impairment: {Clients}/{Clients} clients connected in {handshakeTime.TotalSeconds:F1} s; {total} reliable messages each way ({bytes / 1e6:F1} MB) exactly once and intact in {messageTime.TotalSeconds:F1} s; " +
            $"{unreliableSeen.Count} of {2 * Math.Min(unreliable, total)} unreliable probes arrived, none twice; {retransmissions} retransmissions, {checksumDrops} datagrams dropped by the endpoints; " +
            $"proxy up: {proxy.UpStatistics}; down: {proxy.DownStatistics}");
        foreach (var client in clients)
            await client.DisposeAsync();

        void Record(long client, ReadOnlySpan<byte> data, MessageInfo message, ConcurrentDictionary<(long, int), byte[]> expected, ConcurrentDictionary<(long, int), int> received, bool toServerSide)
        {
            if (data.Length < 9)
            {
                Interlocked.Increment(ref corrupt);
                return;
            }
            var id = BitConverter.ToInt32(data[..4]);
            var index = BitConverter.ToInt32(data[4..8]);
            if (message.Delivery == Delivery.Unreliable)
            {
                unreliableSeen.AddOrUpdate((id, index, toServerSide), 1, (_, n) => n + 1);
                return;
            }
            if (id != client || !expected.TryGetValue((id, index), out var hash) || !SHA256.HashData(data).AsSpan().SequenceEqual(hash))
                Interlocked.Increment(ref corrupt);
            received.AddOrUpdate((id, index), 1, (_, n) => n + 1);
        }
    }

    [Fact]
    public async Task A_burst_of_large_reliable_messages_stays_within_the_peers_reassembly_limits()
    {
        // 40 messages of 200 KB queued as fast as the send buffer takes them (8 MB, 7,000
        // fragments) through 10 % loss: the sender keeps fragmented messages in flight within what
        // the receiver's reassembly holds (64 sets, 1 MiB), so no partial set is evicted and every
        // message completes.
        await using var pair = await ProxiedPair.StartAsync(impairment: new DirectionSettings { Loss = 0.1, BurstLength = 2 });
        var sent = new Dictionary<string, int>();
        for (var i = 0; i < 40; i++)
        {
            var message = RandomNumberGenerator.GetBytes(200 * 1024);
            sent[Convert.ToHexString(SHA256.HashData(message))] = i;
            while (!pair.Client.Client.TrySend(message, Delivery.Reliable))
                await pair.Client.Client.WhenWritableAsync(Token);
        }
        for (var i = 0; i < 40; i++)
            Assert.True(sent.Remove(Convert.ToHexString(SHA256.HashData(pair.Server.Received.Next(TimeSpan.FromSeconds(60)).Data))), "an unknown or repeated message arrived");

        Assert.Empty(sent);
        Assert.Equal(0, pair.Connection.Statistics.Dropped(DropReason.Reassembly));
        Assert.True(pair.Client.Client.Statistics.Retransmissions > 0, "the loss made the sender retransmit");
        Assert.True(pair.Client.Client.IsConnected);
    }

    private static byte[] Message(long client, int index, int size, Random random)
    {
        var message = new byte[Math.Max(size, 9)];
        random.NextBytes(message);
        BitConverter.TryWriteBytes(message, (int)client);
        BitConverter.TryWriteBytes(message.AsSpan(4), index);
        return message;
    }
}
