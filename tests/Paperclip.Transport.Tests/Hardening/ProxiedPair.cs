using System.Collections.Concurrent;
using System.Net;
using Paperclip.Impair;
using Paperclip.Protocol;

namespace Paperclip.Transport.Tests.Hardening;

/// <summary>
/// A server, an impairment proxy in front of it and one connected client behind the proxy. The
/// proxy records every datagram and lets a test inject datagrams from the client's address (to
/// the server) or from the server's address (to the client): an on-path attacker.
/// </summary>
internal sealed class ProxiedPair : IAsyncDisposable
{
    private ProxiedPair(ServerHarness server, ImpairmentProxy proxy, TamperingRelay? relay)
    {
        Server = server;
        Proxy = proxy;
        _relay = relay;
        proxy.Observer = (direction, _, datagram) => (direction == Direction.Up ? Up : Down).Enqueue(datagram.ToArray());
    }

    private readonly TamperingRelay? _relay;

    public ServerHarness Server { get; }

    public ImpairmentProxy Proxy { get; }

    public ClientHarness Client { get; private set; } = null!;

    /// <summary>The server's view of the client.</summary>
    public PaperclipConnection Connection { get; private set; } = null!;

    /// <summary>The client's address as the proxy sees it (the key for injection).</summary>
    public IPEndPoint ClientAddress => Proxy.Flows.Single().Client;

    public ConcurrentQueue<byte[]> Up { get; } = new();

    public ConcurrentQueue<byte[]> Down { get; } = new();

    // tamper: when given, a TamperingRelay between the proxy and the server passes every datagram through it (to drop some selectively).
    public static async Task<ProxiedPair> StartAsync(Action<PaperclipServerOptions>? server = null, Action<PaperclipClientOptions>? client = null, DirectionSettings? impairment = null, long accountId = 1,
        Func<byte[], bool, byte[]?>? tamper = null)
    {
        var harness = ServerHarness.Start(server);
        var relay = tamper is null ? null : new TamperingRelay(harness.EndPoint, tamper);
        var proxy = new ImpairmentProxy(ImpairmentSettings.Symmetric(relay?.EndPoint ?? harness.EndPoint, impairment ?? DirectionSettings.None));
        var pair = new ProxiedPair(harness, proxy, relay);
        var account = TestPki.Account(accountId, harness.Validator);
        pair.Client = new ClientHarness(new PaperclipClient(TestPki.Shared.ClientOptions(account, client)));
        await pair.Client.Client.ConnectAsync(proxy.ListenEndPoint, TestContext.Current.CancellationToken).WaitAsync(Wait.Timeout, TestContext.Current.CancellationToken);
        pair.Connection = harness.Joined.Next();
        return pair;
    }

    /// <summary>Sealed datagrams (ENCRYPTED flag) seen in one direction so far.</summary>
    public static List<byte[]> Sealed(ConcurrentQueue<byte[]> seen) =>
        seen.Where(d => PacketReader.TryRead(d, out var h, out _) && h.Has(PacketFlags.Encrypted)).ToList();

    public void ToServer(ReadOnlySpan<byte> datagram) => Proxy.InjectToServer(ClientAddress, datagram);

    public void ToClient(ReadOnlySpan<byte> datagram) => Proxy.InjectToClient(ClientAddress, datagram);

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Proxy.DisposeAsync();
        if (_relay is not null)
            await _relay.DisposeAsync();
        await Server.DisposeAsync();
    }
}
