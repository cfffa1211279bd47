using Paperclip.Protocol;

namespace Paperclip.Transport.Tests.Hardening;

/// <summary>
/// Issue 7, scenario 5: the record layer against an on-path attacker who can replay, flip bits,
/// forge packet numbers and spoof plaintext control packets.
/// </summary>
public sealed class RecordLayerTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Replayed_sealed_datagrams_are_dropped_and_counted_at_once_after_a_second_and_after_the_window_moved()
    {
        await using var pair = await ProxiedPair.StartAsync();
        var stats = pair.Connection.Statistics;
        pair.Client.Client.Send("once"u8, Delivery.Reliable);
        Assert.Equal("once"u8.ToArray(), pair.Server.Received.Next().Data);
        await Wait.UntilAsync(() => ProxiedPair.Sealed(pair.Up).Count > 0, "the client sent sealed datagrams");
        var captured = ProxiedPair.Sealed(pair.Up);

        // Immediately.
        var replays = 0L;
        foreach (var datagram in captured)
            pair.ToServer(datagram);
        replays += captured.Count;
        await Wait.UntilAsync(() => stats.Dropped(DropReason.Replay) >= replays, "the immediate replays were counted");

        // After a second (the scenario's own delay, not a wait for a condition).
        await Task.Delay(TimeSpan.FromSeconds(1), Token);
        foreach (var datagram in captured)
            pair.ToServer(datagram);
        replays += captured.Count;
        await Wait.UntilAsync(() => stats.Dropped(DropReason.Replay) >= replays, "the replays after 1 s were counted");

        // After the window moved past them: 1,100 datagrams of ~1000 bytes each (one per datagram).
        var filler = new byte[1000];
        for (var i = 0; i < 1100; i++)
        {
            while (!pair.Client.Client.TrySend(filler, Delivery.Reliable))
                await pair.Client.Client.WhenWritableAsync(Token); // more than the send buffer holds
        }
        await Wait.UntilAsync(() => pair.Server.Received.Count >= 1100, "the filler arrived");
        foreach (var datagram in captured)
            pair.ToServer(datagram);
        replays += captured.Count;
        await Wait.UntilAsync(() => stats.Dropped(DropReason.Replay) >= replays, "the replays behind the window were counted");

        Assert.Equal(replays, stats.Dropped(DropReason.Replay));
        Assert.Equal(0, stats.Dropped(DropReason.Authentication));
        Assert.Equal(1100, pair.Server.Received.Count); // "once" was taken; no replay delivered it again
        Assert.True(pair.Connection.IsConnected);
    }

    [Fact]
    public async Task Every_single_bit_flip_of_a_sealed_datagram_is_dropped_and_the_session_survives()
    {
        await using var pair = await ProxiedPair.StartAsync();
        var stats = pair.Connection.Statistics;
        pair.Client.Client.Send("original message"u8, Delivery.Reliable, SendOptions.Checksum);
        Assert.Equal("original message"u8.ToArray(), pair.Server.Received.Next().Data);
        await Wait.UntilAsync(() => ProxiedPair.Sealed(pair.Up).Count > 0, "the client sent sealed datagrams");
        var original = ProxiedPair.Sealed(pair.Up).MaxBy(d => d.Length)!;

        var before = stats.TotalDropped + pair.Server.Server.Statistics.ShortAuthDropped;
        var flips = original.Length * 8;
        for (var bit = 0; bit < flips; bit++)
        {
            var flipped = original.ToArray();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            pair.ToServer(flipped);
        }
        await Wait.UntilAsync(() => stats.TotalDropped + pair.Server.Server.Statistics.ShortAuthDropped - before >= flips, $"all {flips} flipped datagrams were dropped");

        Assert.Equal(flips, stats.TotalDropped + pair.Server.Server.Statistics.ShortAuthDropped - before);
        Assert.Empty(pair.Server.Received);
        Assert.Empty(pair.Server.Left);
        pair.Client.Client.Send("still here"u8, Delivery.Reliable);
        Assert.Equal("still here"u8.ToArray(), pair.Server.Received.Next().Data);
        Assert.True(pair.Connection.IsConnected);
    }

    [Fact]
    public async Task Forged_packet_with_a_huge_packet_number_does_not_move_the_window()
    {
        await using var pair = await ProxiedPair.StartAsync();
        var stats = pair.Connection.Statistics;
        foreach (var pn in new[] { 1UL << 40, (1UL << 62) + 12345, ulong.MaxValue })
        {
            var header = PacketHeader.Create(PacketType.Default, PacketFlags.Reliable | PacketFlags.Encrypted, 500);
            header.PacketNumber = pn;
            var forged = new byte[PacketWriter.HeaderLength(header.Type, header.Flags) + 40];
            PacketWriter.WriteHeader(forged, header);
            Random.Shared.NextBytes(forged.AsSpan(PacketWriter.HeaderLength(header.Type, header.Flags)));
            pair.ToServer(forged);
        }
        await Wait.UntilAsync(() => stats.Dropped(DropReason.Authentication) == 3, "the forgeries failed to open");

        // Were the window at 2^62, every genuine packet number would now be "too old".
        for (var i = 0; i < 20; i++)
            pair.Client.Client.Send([(byte)i], Delivery.Reliable);
        for (var i = 0; i < 20; i++)
            pair.Server.Received.Next();
        Assert.Equal(0, stats.Dropped(DropReason.Replay));
    }

    [Fact]
    public async Task Spoofed_plaintext_disconnect_error_and_heartbeat_are_ignored_under_the_required_policy()
    {
        await using var pair = await ProxiedPair.StartAsync();
        // Until the server acknowledges its Finished, a client rightly believes a plaintext
        // CONNECTION error (the server may have refused the Finished). A round trip settles it:
        // the server's ACK of the Finished left before its answer.
        pair.Client.Client.Send("ping"u8);
        pair.Server.Received.Next();
        pair.Connection.Send("pong"u8);
        pair.Client.Received.Next();
        var serverStats = pair.Connection.Statistics;
        var clientStats = pair.Client.Client.Statistics;
        byte[][] spoofs =
        [
            Plain(PacketType.Error, ErrorCode.Of(DisconnectReason.ClientDisconnect)),
            Plain(PacketType.Error, ErrorCode.Of(DisconnectReason.ServerDisconnect)),
            Plain(PacketType.Error, ErrorCode.Of(DisconnectReason.Timeout)),
            Plain(PacketType.Error, ErrorCode.Of(ConnectionError.CertificateInvalid)),
            Plain(PacketType.Error, ErrorCode.Of(PacketError.Checksum)),
            Plain(PacketType.Heartbeat, default),
            Plain(PacketType.Heartbeat, default, reliable: true),
        ];
        foreach (var spoof in spoofs)
        {
            pair.ToServer(spoof);
            pair.ToClient(spoof);
        }
        await Wait.UntilAsync(() => serverStats.Dropped(DropReason.NotAdmitted) == spoofs.Length, "the server dropped every spoof");
        await Wait.UntilAsync(() => clientStats.Dropped(DropReason.NotAdmitted) == spoofs.Length, "the client dropped every spoof");

        Assert.True(pair.Client.Client.IsConnected);
        Assert.True(pair.Connection.IsConnected);
        Assert.Empty(pair.Server.Left);
        Assert.Empty(pair.Server.Errors);
        Assert.Empty(pair.Client.Disconnected);
        Assert.Empty(pair.Client.Errors);
        pair.Client.Client.Send("alive"u8);
        Assert.Equal("alive"u8.ToArray(), pair.Server.Received.Next().Data);
        pair.Connection.Send("alive too"u8);
        Assert.Equal("alive too"u8.ToArray(), pair.Client.Received.Next().Data);
    }

    private static byte[] Plain(PacketType type, ErrorCode error, bool reliable = false)
    {
        var header = PacketHeader.Create(type, reliable ? PacketFlags.Reliable : PacketFlags.None, 7);
        header.Error = error;
        var datagram = new byte[PacketWriter.HeaderLength(type, header.Flags)];
        PacketWriter.WriteHeader(datagram, header);
        return datagram;
    }
}
