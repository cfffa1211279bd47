using System.Net;
using System.Text;
using Paperclip.Protocol.Certificates;

namespace Paperclip.Transport.Tests;

/// <summary>The example at the top of docs/transport.md, kept here so that it is known to run as written.</summary>
public sealed class DocsExampleTests
{
    [Fact]
    public async Task Transport_doc_example_runs()
    {
        var serverKey = AccountKey.Generate();
        var accountKey = AccountKey.Generate();
        var validator = new KnownKeysCertificateValidator();
        validator.Add(1, AccountKey.ExportPublicKey(accountKey));

        await using var server = new PaperclipServer(new PaperclipServerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            Certificate = ServerCertificate.Create(serverKey, DateTimeOffset.UtcNow, TimeSpan.FromDays(1)),
            PrivateKey = serverKey,
            CertificateValidator = validator,
        });
        server.DataReceived += (connection, data, flags) => connection.Send(data); // echo
        server.Start();

        await using var client = new PaperclipClient(new PaperclipClientOptions
        {
            Certificate = AccountCertificate.Create(accountKey, 1, "Mario", DateTimeOffset.UtcNow, TimeSpan.FromHours(1)),
            PrivateKey = accountKey,
            ServerPublicKey = AccountKey.ExportPublicKey(serverKey),
        });
        var echoed = new TaskCompletionSource<string>();
        client.DataReceived += (data, flags) => echoed.TrySetResult(Encoding.UTF8.GetString(data));
        await client.ConnectAsync(server.LocalEndPoint, TestContext.Current.CancellationToken);
        client.Send("hello"u8, Delivery.Reliable);
        Assert.Equal("hello", await echoed.Task.WaitAsync(Wait.Timeout, TestContext.Current.CancellationToken));
    }
}
