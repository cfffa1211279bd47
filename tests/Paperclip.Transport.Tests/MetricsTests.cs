using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Paperclip.Protocol;

namespace Paperclip.Transport.Tests;

/// <summary>
/// The Paperclip.Transport meter, read through a real <see cref="MeterListener"/>. Its figures
/// are the whole process's, and other tests run at the same time: every check is of an increase
/// at least as large as what this test caused.
/// </summary>
public sealed class MetricsTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Traffic_sessions_and_rtt_are_observed_and_counters_survive_the_server()
    {
        using var meter = new TransportMeterReader();
        var before = meter.Collect();
        long messagesAtEnd;
        await using (var server = ServerHarness.Start())
        {
            await using var client = await server.ConnectAsync(1);
            for (var i = 0; i < 50; i++)
                client.Client.Send(new byte[100], Delivery.Reliable);
            for (var i = 0; i < 50; i++)
                server.Received.Next();
            // The last messages' ACKs give RTT samples once they are back at the client.
            await Wait.UntilAsync(() => client.Client.Statistics.RoundTripTime > TimeSpan.Zero, "the client has an RTT");

            var during = meter.Collect();
            Assert.True(during.Value("paperclip.transport.sessions") >= 1);
            Assert.True(during.Value("paperclip.transport.messages", "receive") - before.Value("paperclip.transport.messages", "receive") >= 50);
            Assert.True(during.Value("paperclip.transport.datagrams", "receive") - before.Value("paperclip.transport.datagrams", "receive") >= 1);
            Assert.True(during.Value("paperclip.transport.bytes", "receive") - before.Value("paperclip.transport.bytes", "receive") >= 50 * 100);
            Assert.True(during.Value("paperclip.transport.bytes", "transmit") > before.Value("paperclip.transport.bytes", "transmit"));
            Assert.True(during.Value("paperclip.transport.handshakes.completed") - before.Value("paperclip.transport.handshakes.completed") >= 1);
            Assert.True(meter.RttSamples > 0);
            messagesAtEnd = during.Value("paperclip.transport.messages", "receive");
        }

        // The server is gone; what its sessions counted is still in the totals (counters never go back).
        var after = meter.Collect();
        Assert.True(after.Value("paperclip.transport.messages", "receive") >= messagesAtEnd);
    }

    [Fact]
    public async Task Failed_handshakes_are_counted_by_reason_and_tampered_datagrams_as_aead_failures()
    {
        using var meter = new TransportMeterReader();
        var before = meter.Collect();
        await using var server = ServerHarness.Start(o => o.MaxClients = 1);
        await using var first = await server.ConnectAsync(1);
        var refused = new PaperclipClient(TestPki.Shared.ClientOptions(TestPki.Account(2, server.Validator)));
        await Assert.ThrowsAnyAsync<Exception>(() => refused.ConnectAsync(server.EndPoint, Token).WaitAsync(Wait.Timeout, Token));
        await refused.DisposeAsync();

        // A sealed packet broken on its way (a relay flips its last byte, in the AEAD tag).
        await using var relayed = ServerHarness.Start();
        var armed = false;
        var broken = 0;
        await using var relay = new TamperingRelay(relayed.EndPoint, (datagram, toServer) =>
        {
            if (toServer && Volatile.Read(ref armed) && Interlocked.Increment(ref broken) <= 3)
                datagram[^1] ^= 0xFF;
            return datagram;
        });
        await using var client = new ClientHarness(new PaperclipClient(TestPki.Shared.ClientOptions(TestPki.Account(3, relayed.Validator))));
        await client.Client.ConnectAsync(relay.EndPoint, Token).WaitAsync(Wait.Timeout, Token);
        relayed.Joined.Next();
        Volatile.Write(ref armed, true);
        client.Client.Send(new byte[100], Delivery.Reliable);
        relayed.Received.Next(); // delivered once resent intact
        await Wait.UntilAsync(() => meter.Collect().Value("paperclip.transport.drops", "aead_failure") > before.Value("paperclip.transport.drops", "aead_failure"), "a tampered packet is counted");

        var after = meter.Collect();
        Assert.True(after.Value("paperclip.transport.handshakes.failed", "no_space") > before.Value("paperclip.transport.handshakes.failed", "no_space"));
    }

    [Fact]
    public async Task A_datagram_from_an_unknown_address_is_counted_as_an_unknown_peer_drop()
    {
        using var meter = new TransportMeterReader();
        var before = meter.Collect().Value("paperclip.transport.drops", "unknown_peer");
        await using var server = ServerHarness.Start();
        using var stranger = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var notAuth = new byte[64];
        PacketWriter.WriteHeader(notAuth, PacketHeader.Create(PacketType.Heartbeat, PacketFlags.None, 1));
        await Wait.UntilAsync(() =>
        {
            stranger.Send(notAuth, server.EndPoint);
            return meter.Collect().Value("paperclip.transport.drops", "unknown_peer") > before;
        }, "the stranger's datagram is counted");
    }
}

/// <summary>Listens to the Paperclip.Transport meter: observable values on demand, counters and RTT samples as they come.</summary>
internal sealed class TransportMeterReader : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _counters = new();
    private readonly Dictionary<string, long> _observed = [];
    private long _rttSamples;

    public TransportMeterReader()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Paperclip.Transport")
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var key = Key(instrument.Name, tags);
            if (instrument.IsObservable)
                _observed[key] = _observed.GetValueOrDefault(key) + value;
            else
                _counters.AddOrUpdate(key, value, (_, v) => v + value);
        });
        _listener.SetMeasurementEventCallback<double>((instrument, _, _, _) =>
        {
            if (instrument.Name == "paperclip.transport.rtt")
                Interlocked.Increment(ref _rttSamples);
        });
        _listener.Start();
    }

    public long RttSamples => Interlocked.Read(ref _rttSamples);

    public Snapshot Collect()
    {
        lock (_observed)
        {
            _observed.Clear();
            _listener.RecordObservableInstruments();
            var values = new Dictionary<string, long>(_observed);
            foreach (var (key, value) in _counters)
                values[key] = value;
            return new Snapshot(values);
        }
    }

    public void Dispose() => _listener.Dispose();

    private static string Key(string name, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
            name += "|" + tag.Value;
        return name;
    }

    public sealed class Snapshot(Dictionary<string, long> values)
    {
        public long Value(string name, string? tag = null) => values.GetValueOrDefault(tag is null ? name : name + "|" + tag);
    }
}
