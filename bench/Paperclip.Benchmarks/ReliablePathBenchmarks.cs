using System.Diagnostics;
using System.Net;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Paperclip.Protocol;
using Paperclip.Protocol.Crypto;
using Paperclip.Transport;
using Paperclip.Transport.Internal;
using Paperclip.Transport.Internal.Connection;
using Paperclip.Transport.Internal.Io;

namespace Paperclip.Benchmarks;

/// <summary>
/// The reliable path's cost per message without sockets or threads: two session cores joined
/// in memory, a burst of sealed 64 B messages one way, each datagram parsed and opened by the
/// peer, its ACKs carried back and processed — what the loopback harness's 64 B reliable case
/// does minus the system calls and the machine's noise. One operation = <see cref="Burst"/> messages.
/// </summary>
[MemoryDiagnoser]
public class ReliablePathBenchmarks
{
    private const int Burst = 64;
    private readonly byte[] _payload = new byte[64];
    private Link _toServer = null!;
    private Link _toClient = null!;
    private BenchCore _client = null!;
    private BenchCore _server = null!;
    private long _now = 1_000;

    [Params(Delivery.Reliable, Delivery.ReliableOrdered)]
    public Delivery Delivery { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var settings = new TransportSettings(new PaperclipClientOptions());
        _toServer = new Link();
        _toClient = new Link();
        _client = new BenchCore(settings, _toServer, _now);
        _server = new BenchCore(settings, _toClient, _now);
        Span<byte> secret = stackalloc byte[32];
        Span<byte> transcript = stackalloc byte[32];
        secret.Fill(7);
        transcript.Fill(8);
        var keys = SessionKeys.Derive(secret, transcript);
        _client.Activate(keys, isClient: true, ProtocolConstants.Version2, _now);
        _server.Activate(keys, isClient: false, ProtocolConstants.Version2, _now);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Close(DisconnectReason.Disconnect, notifyPeer: false);
        _server.Close(DisconnectReason.Disconnect, notifyPeer: false);
    }

    [Benchmark(OperationsPerInvoke = Burst)]
    public int SendDeliverAcknowledge()
    {
        _now++;
        byte[]? rented = null;
        for (var i = 0; i < Burst; i++)
            _client.Send(OutgoingMessage.Prepare(_payload, Delivery, 0, SendOptions.None, _client.Settings, ref rented));
        _client.Flush(_now, Stopwatch.GetTimestamp());
        _toServer.DeliverTo(_server, _now);
        _server.Flush(_now, Stopwatch.GetTimestamp());
        _toClient.DeliverTo(_client, _now);
        return _server.Received;
    }

    /// <summary>Datagrams on their way: copied into one buffer, handed over in order.</summary>
    private sealed class Link : IDatagramSink
    {
        private readonly byte[] _bytes = new byte[1 << 20];
        private readonly List<(int Offset, int Length)> _datagrams = [];
        private int _length;

        public void Send(ReadOnlySpan<byte> datagram, SocketAddress to)
        {
            datagram.CopyTo(_bytes.AsSpan(_length));
            _datagrams.Add((_length, datagram.Length));
            _length += datagram.Length;
        }

        public void DeliverTo(SessionCore core, long now)
        {
            foreach (var (offset, length) in _datagrams)
            {
                var datagram = _bytes.AsSpan(offset, length);
                if (PacketReader.TryRead(datagram, ProtocolConstants.LatestVersion, out var header, out var error))
                    core.Receive(datagram, header, now);
                else
                    throw new InvalidOperationException($"a datagram did not parse: {error}");
            }
            _datagrams.Clear();
            _length = 0;
        }
    }

    private sealed class BenchCore(TransportSettings settings, IDatagramSink sink, long now)
        : SessionCore(settings, sink, new IPEndPoint(IPAddress.Loopback, 40_000).Serialize(), now, budget: null, heldBudget: null, NullLogger.Instance)
    {
        public int Received { get; private set; }

        public override bool OnPlaintextHandshake(ReadOnlySpan<byte> datagram, in PacketHeader header) => false;

        protected override void OnOutputPending()
        {
        }

        protected override void OnMessage(ReadOnlySpan<byte> data, in MessageInfo info) => Received++;

        protected override void OnError(ErrorCode code, string text) => throw new InvalidOperationException($"{code}: {text}");

        protected override void OnClosed(DisconnectReason reason, string? text)
        {
        }
    }
}
