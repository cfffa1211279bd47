using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Paperclip.Impair;
using Paperclip.Protocol;

namespace Paperclip.Transport.Tests.Hardening;

/// <summary>
/// Issue 7, scenario 3: random and mutated datagrams (random bytes, bit flips and truncations of
/// valid packets, every length and count field at 0, max and max+1) at a live server — from a
/// connected client's own address and from strangers — and at a live client from its server's
/// address. No crash, nothing logged as an error, the sessions go on, and the managed heap after
/// a full GC stays within 10 MB of where it started. 50,000 datagrams by default, 1,000,000 with
/// PAPERCLIP_LONG_TESTS=1.
/// </summary>
[Collection(Alone.Name)]
public sealed class HostileDatagramTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Random_and_mutated_datagrams_crash_nothing_leak_nothing_and_leave_sessions_working()
    {
        var total = LongTests.Pick(50_000, 1_000_000);
        var serverLog = new RecordingLogger<PaperclipServer>();
        var clientLog = new RecordingLogger<PaperclipClient>();
        var validator = new KnownKeysCertificateValidator();
        await using var server = new PaperclipServer(TestPki.Shared.ServerOptions(validator, o => o.CookieMode = CookieMode.Automatic), serverLog);
        var serverReceived = new List<byte[]>();
        server.DataReceived += (_, data, _) =>
        {
            lock (serverReceived)
                serverReceived.Add(data.ToArray());
        };
        server.Start();
        await using var proxy = new ImpairmentProxy(ImpairmentSettings.Symmetric(server.LocalEndPoint, DirectionSettings.None));
        var captured = new List<byte[]>();
        proxy.Observer = (_, _, datagram) =>
        {
            lock (captured)
            {
                if (captured.Count < 2000)
                    captured.Add(datagram.ToArray());
            }
        };

        var victim = new ClientHarness(new PaperclipClient(TestPki.Shared.ClientOptions(TestPki.Account(1, validator)), clientLog));
        await victim.Client.ConnectAsync(proxy.ListenEndPoint, Token).WaitAsync(Wait.Timeout, Token);
        var bystanders = new List<ClientHarness>();
        for (var i = 0; i < 2; i++)
        {
            var bystander = new ClientHarness(new PaperclipClient(TestPki.Shared.ClientOptions(TestPki.Account(10 + i, validator))));
            await bystander.Client.ConnectAsync(server.LocalEndPoint, Token).WaitAsync(Wait.Timeout, Token);
            bystanders.Add(bystander);
        }
        await Wait.UntilAsync(() => server.ConnectionCount == 3, "three clients joined");
        var victimConnection = server.Connections.Single(c => c.AccountId == 1);
        var clientAddress = proxy.Flows.Single().Client;

        // Valid traffic of every kind to mutate: plaintext handshake, sealed singles, fragments, batches.
        victim.Client.Send(new byte[3000], Delivery.Reliable, SendOptions.Checksum | SendOptions.Compress);
        victim.Client.Send(new byte[5000], Delivery.Reliable);
        for (var i = 0; i < 20; i++)
            victim.Client.Send([(byte)i], i % 2 == 0 ? Delivery.Reliable : Delivery.Unreliable);
        victimConnection.Send(new byte[4000], Delivery.Reliable);
        victimConnection.SendError(ErrorCode.Of(PacketError.Data), "text");
        await Wait.UntilAsync(() => { lock (serverReceived) return serverReceived.Count >= 12; }, "the valid traffic arrived");
        Assert.Equal(4000, victim.Received.Next().Data.Length);
        byte[][] valid;
        lock (captured)
            valid = [.. captured];

        using var strangers = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        strangers.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var random = new Random(1234);
        var edges = EdgeCases(valid).ToArray();
        var kinds = new long[5];

        await SyncAsync();
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        var stopwatch = Stopwatch.StartNew();
        for (var sent = 0; sent < total; sent++)
        {
            var kind = random.Next(5);
            kinds[kind]++;
            var datagram = kind switch
            {
                0 => RandomBytes(random),
                1 => Flip(valid[random.Next(valid.Length)], random),
                2 => edges[random.Next(edges.Length)],
                3 => RandomHeader(random),
                _ => Truncate(valid[random.Next(valid.Length)], random),
            };
            switch (random.Next(10))
            {
                case < 4:
                    proxy.InjectToServer(clientAddress, datagram);
                    break;
                case < 8:
                    proxy.InjectToClient(clientAddress, datagram);
                    break;
                default:
                    strangers.SendTo(datagram, server.LocalEndPoint);
                    break;
            }
            if (sent % 2000 == 1999)
                await SyncAsync(); // let the receivers keep up, so the datagrams are processed rather than lost in the kernel
        }
        await SyncAsync();
        var elapsed = stopwatch.Elapsed;
        var after = GC.GetTotalMemory(forceFullCollection: true);

        Assert.Empty(serverLog.Problems);
        Assert.Empty(clientLog.Problems);
        Assert.True(victim.Client.IsConnected);
        Assert.Empty(victim.Disconnected);
        Assert.Equal(3, server.ConnectionCount);
        Assert.All(bystanders, b => Assert.True(b.Client.IsConnected));
        foreach (var bystander in bystanders)
        {
            bystander.Client.Send("bystander"u8);
            await Wait.UntilAsync(() => { lock (serverReceived) return serverReceived.Any(r => r.AsSpan().SequenceEqual("bystander"u8)); }, "a bystander's message arrived");
        }
        var growth = after - baseline;
        LongTests.Report($"hostile: {total} datagrams (random {kinds[0]}, bit flips {kinds[1]}, edge fields {kinds[2]}, random headers {kinds[3]}, truncations {kinds[4]}) in {elapsed.TotalSeconds:F1} s ({total / elapsed.TotalSeconds:F0}/s); " +
            $"server session drops {victimConnection.Statistics.TotalDropped} (authentication {victimConnection.Statistics.Dropped(DropReason.Authentication)}, malformed {victimConnection.Statistics.Dropped(DropReason.Malformed)}, not admitted {victimConnection.Statistics.Dropped(DropReason.NotAdmitted)}), " +
            $"client drops {victim.Client.Statistics.TotalDropped}, unknown-peer drops {server.Statistics.UnknownPeerDropped}, short AUTH {server.Statistics.ShortAuthDropped}, certificate checks {server.Statistics.CertificateChecks}; heap {baseline / 1e6:F1} MB -> {after / 1e6:F1} MB ({growth / 1e6:+0.0;-0.0} MB)");
        Assert.True(growth < 10_000_000, $"the heap grew by {growth} bytes");

        await victim.DisposeAsync();
        foreach (var bystander in bystanders)
            await bystander.DisposeAsync();

        // A marker each way through the proxy's sockets, behind everything injected before it.
        async Task SyncAsync()
        {
            var marker = Guid.NewGuid().ToByteArray();
            victim.Client.Send(marker, Delivery.Reliable);
            victimConnection.Send(marker, Delivery.Reliable);
            await Wait.UntilAsync(() => { lock (serverReceived) return serverReceived.Any(r => r.AsSpan().SequenceEqual(marker)); }, "the server caught up", TimeSpan.FromSeconds(60));
            while (true)
            {
                var (data, _, _) = victim.Received.Next(TimeSpan.FromSeconds(60));
                if (data.AsSpan().SequenceEqual(marker))
                    break;
            }
            lock (serverReceived)
                serverReceived.Clear();
        }
    }

    private static byte[] RandomBytes(Random random)
    {
        var datagram = new byte[random.Next(0, 1300)];
        random.NextBytes(datagram);
        return datagram;
    }

    private static byte[] Flip(byte[] valid, Random random)
    {
        var datagram = valid.ToArray();
        if (datagram.Length == 0)
            return datagram;
        for (var i = random.Next(1, 9); i > 0; i--)
            datagram[random.Next(datagram.Length)] ^= (byte)(1 << random.Next(8));
        return datagram;
    }

    private static byte[] Truncate(byte[] valid, Random random) => valid[..random.Next(0, valid.Length)];

    private static byte[] RandomHeader(Random random)
    {
        var datagram = new byte[random.Next(3, 80)];
        random.NextBytes(datagram);
        datagram[0] = (byte)((random.Next(6) << 5) | random.Next(32));
        return datagram;
    }

    /// <summary>Every length and count field at 0, its maximum and maximum + 1, on every type.</summary>
    private static IEnumerable<byte[]> EdgeCases(byte[][] valid)
    {
        ushort[] u16 = [0, 1, 2, 3, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF];
        // FRAG_ID / FRAG_COUNT on DEFAULT, plain and sealed.
        foreach (var flags in new[] { PacketFlags.Frag, PacketFlags.Frag | PacketFlags.Reliable, PacketFlags.Frag | PacketFlags.Encrypted, PacketFlags.Frag | PacketFlags.Checksum | PacketFlags.Compressed })
        {
            foreach (var (id, count) in new (byte, byte)[] { (0, 0), (0, 1), (0, 255), (254, 255), (255, 255), (255, 0), (1, 1), (200, 100) })
            {
                var header = PacketHeader.Create(PacketType.Default, flags, 9);
                header.FragmentId = id;
                header.FragmentCount = count;
                header.PacketNumber = ulong.MaxValue;
                foreach (var data in new[] { 0, 1, 16, 1100 })
                    yield return Write(header, data);
            }
        }
        // AUTH: VERSION, CERT_LEN, KEY_LEN, SIG_LEN at 0, max, max+1 (= past the datagram).
        var auth = valid.FirstOrDefault(d => d.Length > 0 && d[0] == 0x40) ?? new byte[1200];
        if (PacketReader.TryRead(auth, out var authHeader, out _))
        {
            foreach (var version in new byte[] { 0, 2, 255 })
            {
                var copy = auth.ToArray();
                copy[3] = version;
                yield return copy;
            }
            foreach (var field in new[] { authHeader.Certificate, authHeader.Key, authHeader.Signature })
            {
                var lengthAt = field.Start.Value - 2;
                var remaining = auth.Length - field.Start.Value;
                foreach (var length in u16.Concat([(ushort)remaining, (ushort)(remaining + 1), (ushort)(field.End.Value - field.Start.Value + 1)]))
                {
                    var copy = auth.ToArray();
                    copy[lengthAt] = (byte)(length >> 8);
                    copy[lengthAt + 1] = (byte)length;
                    yield return copy;
                    yield return copy[..(field.Start.Value + Math.Min(length, remaining))];
                }
            }
            // COOKIE_LEN at 0, 20, 255 with and without room.
            foreach (var cookieLength in new byte[] { 0, 19, 20, 21, 255 })
            {
                var copy = auth.ToArray();
                copy[authHeader.Signature.End.Value] = cookieLength;
                yield return copy;
            }
        }
        // BATCH entries: LEN at 0, 2, 3, exact, exact + 1, 0xFFFF; inner AUTH, BATCH, ENCRYPTED.
        foreach (var len in u16.Concat([(ushort)5]))
        {
            foreach (var inner in new byte[] { 0x00, 0x01, 0x20, 0x40, 0xA0, 0x08, 0x60, 0x80, 0xC0, 0xE0, 0x10 })
            {
                var batch = new byte[3 + 2 + 8];
                batch[0] = 0xA0;
                batch[3] = (byte)(len >> 8);
                batch[4] = (byte)len;
                batch[5] = inner;
                yield return batch;
                var sealedBatch = new byte[3 + 8 + 2 + 8 + 16];
                sealedBatch[0] = 0xA8;
                sealedBatch[11] = (byte)(len >> 8);
                sealedBatch[12] = (byte)len;
                sealedBatch[13] = inner;
                yield return sealedBatch;
            }
        }
        // ERROR with every major and extreme minors and text lengths; HEARTBEAT with every beat.
        foreach (var major in new byte[] { 0, 1, 2, 3, 4, 255 })
        {
            foreach (var minor in new byte[] { 0, 5, 13, 14, 255 })
            {
                foreach (var text in new[] { 0, 256, 257, 1195 })
                {
                    var error = new byte[5 + text];
                    error[0] = 0x80;
                    error[3] = major;
                    error[4] = minor;
                    yield return error;
                }
            }
        }
        foreach (var beat in new byte[] { 0, 1, 2, 255 })
            yield return [0x60, 0, 1, beat];
        // ACK with every ACK_ID/ACK_BITS extreme, plain and sealed-looking.
        foreach (var id in u16)
        {
            foreach (var bits in new ushort[] { 0, 0xFFFF })
            {
                var ack = PacketHeader.Create(PacketType.Ack, PacketFlags.None, 3);
                ack.AckId = id;
                ack.AckBits = bits;
                yield return Write(ack, 0);
                ack.Flags = PacketFlags.Encrypted;
                ack.PacketNumber = id;
                yield return Write(ack, 16);
            }
        }
        // Every truncation of every header shape; reserved types; empty.
        yield return [];
        foreach (var tf in new byte[] { 0xC0, 0xE0, 0xFF, 0x1F, 0x3F, 0x5F, 0x7F, 0x9F, 0xBF })
            yield return [tf, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
        foreach (var datagram in valid.Where(d => d.Length < 64))
        {
            for (var length = 0; length < datagram.Length; length++)
                yield return datagram[..length];
        }
    }

    private static byte[] Write(PacketHeader header, int dataLength)
    {
        var datagram = new byte[PacketWriter.HeaderLength(header.Type, header.Flags) + dataLength];
        PacketWriter.WriteHeader(datagram, header);
        return datagram;
    }
}
