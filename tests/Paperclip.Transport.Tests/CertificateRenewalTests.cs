using Paperclip.Protocol;
using Paperclip.Protocol.Certificates;

namespace Paperclip.Transport.Tests;

/// <summary>A running server takes a renewed certificate and key for new handshakes (<see cref="PaperclipServer.UpdateCertificate"/>).</summary>
public sealed class CertificateRenewalTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_handshake_after_the_update_gets_the_new_certificate_and_a_session_from_before_keeps_working()
    {
        // The server's first key is its own, so the test can dispose it once it is replaced.
        var firstKey = AccountKey.Generate();
        var firstCertificate = ServerCertificate.Create(firstKey, DateTimeOffset.UtcNow.AddMinutes(-5), TimeSpan.FromHours(1));
        await using var server = ServerHarness.Start(options => (options.Certificate, options.PrivateKey) = (firstCertificate, firstKey));
        var trustsFirst = AccountKey.ExportPublicKey(firstKey);
        await using var before = await ConnectAsync(server, 1, trustsFirst);
        var beforeOnServer = server.Joined.Next();

        // The renewed certificate is for a new key: only a client that trusts that key accepts it.
        using var renewedKey = AccountKey.Generate();
        var renewedCertificate = ServerCertificate.Create(renewedKey, DateTimeOffset.UtcNow.AddMinutes(-5), TimeSpan.FromHours(1));
        server.Server.UpdateCertificate(renewedCertificate, renewedKey);
        firstKey.Dispose();

        await using var after = await ConnectAsync(server, 2, AccountKey.ExportPublicKey(renewedKey));
        Assert.Equal(2, server.Joined.Next().AccountId);
        var stale = new PaperclipClient(TestPki.Shared.ClientOptions(TestPki.Account(3, server.Validator), o => o.ServerPublicKey = trustsFirst));
        await using (stale)
            await Assert.ThrowsAsync<CertificateInvalidException>(() => stale.ConnectAsync(server.EndPoint, Token).WaitAsync(Wait.Timeout, Token));

        // The session from before the update keeps its keys: messages still go both ways.
        before.Client.Send("still here"u8);
        Assert.Equal("still here"u8.ToArray(), server.Received.Next().Data);
        beforeOnServer.Send("so am I"u8);
        Assert.Equal("so am I"u8.ToArray(), before.Received.Next().Data);
        Assert.True(before.Client.IsConnected);
        Assert.Equal(2, server.Server.ConnectionCount);
    }

    [Fact]
    public async Task An_empty_certificate_or_a_key_of_another_kind_is_refused()
    {
        var validator = new KnownKeysCertificateValidator();
        await using var server = new PaperclipServer(TestPki.Shared.ServerOptions(validator));
        using var dh = System.Security.Cryptography.ECDiffieHellman.Create();
        Assert.Throws<ArgumentException>(() => server.UpdateCertificate([], TestPki.Shared.ServerKey));
        Assert.Throws<ArgumentException>(() => server.UpdateCertificate(TestPki.Shared.ServerCertificate, dh));
    }

    private static async Task<ClientHarness> ConnectAsync(ServerHarness server, long accountId, byte[] trustedKey)
    {
        var client = new ClientHarness(new PaperclipClient(TestPki.Shared.ClientOptions(TestPki.Account(accountId, server.Validator), o => o.ServerPublicKey = trustedKey)));
        await client.Client.ConnectAsync(server.EndPoint, Token).WaitAsync(Wait.Timeout, Token);
        return client;
    }
}
