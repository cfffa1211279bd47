using System.Collections.Concurrent;
using System.Net;
using Paperclip.Protocol;

namespace Paperclip.Transport.Tests;

/// <summary>A started server on loopback with its validator and a record of its events.</summary>
public sealed class ServerHarness : IAsyncDisposable
{
    private ServerHarness(PaperclipServer server, KnownKeysCertificateValidator validator)
    {
        Server = server;
        Validator = validator;
        server.ClientJoined += (_, e) => Joined.Add(e.Connection);
        server.ClientLeft += (_, e) => Left.Add(e);
        server.ErrorReceived += (_, e) => Errors.Add(e);
        server.DataReceived += (connection, data, message) => Received.Add((connection, data.ToArray(), message.Flags, message));
    }

    public PaperclipServer Server { get; }

    public KnownKeysCertificateValidator Validator { get; }

    public BlockingCollection<PaperclipConnection> Joined { get; } = [];

    public BlockingCollection<DisconnectedEventArgs> Left { get; } = [];

    public BlockingCollection<ErrorReceivedEventArgs> Errors { get; } = [];

    public BlockingCollection<(PaperclipConnection Connection, byte[] Data, PacketFlags Flags, MessageInfo Info)> Received { get; } = [];

    public IPEndPoint EndPoint => Server.LocalEndPoint;

    public static ServerHarness Start(Action<PaperclipServerOptions>? configure = null, TimeProvider? time = null)
    {
        var validator = new KnownKeysCertificateValidator(time);
        var server = new PaperclipServer(TestPki.Shared.ServerOptions(validator, options =>
        {
            if (time is not null)
                options.TimeProvider = time;
            configure?.Invoke(options);
        }));
        var harness = new ServerHarness(server, validator);
        server.Start();
        return harness;
    }

    /// <summary>A connected client for a new account.</summary>
    public async Task<ClientHarness> ConnectAsync(long accountId, Action<PaperclipClientOptions>? configure = null)
    {
        var account = TestPki.Account(accountId, Validator);
        var client = new ClientHarness(new PaperclipClient(TestPki.Shared.ClientOptions(account, configure)));
        await client.Client.ConnectAsync(EndPoint, TestContext.Current.CancellationToken).WaitAsync(Wait.Timeout, TestContext.Current.CancellationToken);
        return client;
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

/// <summary>A client and a record of its events.</summary>
public sealed class ClientHarness : IAsyncDisposable
{
    public ClientHarness(PaperclipClient client)
    {
        Client = client;
        client.DataReceived += (data, message) => Received.Add((data.ToArray(), message.Flags, message));
        client.Disconnected += (_, e) => Disconnected.Add(e);
        client.ErrorReceived += (_, e) => Errors.Add(e);
    }

    public PaperclipClient Client { get; }

    public BlockingCollection<(byte[] Data, PacketFlags Flags, MessageInfo Info)> Received { get; } = [];

    public BlockingCollection<DisconnectedEventArgs> Disconnected { get; } = [];

    public BlockingCollection<ErrorReceivedEventArgs> Errors { get; } = [];

    public ValueTask DisposeAsync() => Client.DisposeAsync();
}

public static class Wait
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>The next item, or a failure after the timeout (never a fixed sleep).</summary>
    public static T Next<T>(this BlockingCollection<T> collection, TimeSpan? timeout = null)
    {
        Assert.True(collection.TryTake(out var item, (int)(timeout ?? Timeout).TotalMilliseconds, TestContext.Current.CancellationToken), $"Nothing arrived within {timeout ?? Timeout}.");
        return item!;
    }

    /// <summary>Polls <paramref name="condition"/> until true or the timeout.</summary>
    public static async Task UntilAsync(Func<bool> condition, string because, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Timeout);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting until {because}.");
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }
}
