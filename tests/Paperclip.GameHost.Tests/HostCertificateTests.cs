using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Paperclip.Backend;
using Paperclip.Backend.Security;
using Paperclip.Games.RockPaperScissors;
using Paperclip.Protocol.Certificates;

namespace Paperclip.GameHost.Tests;

/// <summary>Each game host has its own key; the backend's server key only signs its certificate.</summary>
public sealed class HostCertificateTests
{
    [Fact]
    public async Task A_lobby_presents_the_hosts_own_certificate_and_the_client_accepts_it()
    {
        await using var platform = new Platform();
        await using var alice = await platform.RegisterAsync("alice");
        var lobby = await alice.PostAsync("/lobby/matchmake", new Dictionary<string, string> { ["game-name"] = "RPS" }, HttpStatusCode.Created);

        // The client checks the certificate against /auth/server-key and the handshake against the certificate's key.
        await alice.JoinAsync(lobby);
        Assert.True(alice.Game!.IsConnected);

        var host = platform.Services.GetRequiredService<HostCertificate>();
        var serverKey = platform.Services.GetRequiredService<ServerKeyService>().PublicKey;
        using var presented = X509CertificateLoader.LoadCertificate(host.Certificate);
        Assert.Equal(host.PublicKey, presented.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.NotEqual(serverKey, host.PublicKey);
        Assert.True(ServerCertificate.Validate(host.Certificate, serverKey, platform.Time.GetUtcNow()));
    }

    [Fact]
    public async Task The_certificate_is_renewed_at_two_thirds_of_its_life_and_a_failed_renewal_is_tried_again()
    {
        await using var platform = new Platform();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var serverKey = platform.Services.GetRequiredService<ServerKeyService>();
        var issuer = new CountingIssuer(new ServerKeyHostCertificateIssuer(serverKey, time,
            Options.Create(new PaperclipOptions { Cluster = { HostCertificateSeconds = 3600 } })));
        using var host = new HostCertificate(issuer, time, NullLogger<HostCertificate>.Instance);

        await host.RenewAsync(Platform.Token);
        var first = host.Certificate;
        Assert.Equal(time.GetUtcNow().AddHours(1), host.NotAfter!.Value, TimeSpan.FromSeconds(1));
        Assert.True(ServerCertificate.Validate(first, serverKey.PublicKey, time.GetUtcNow()));

        time.Advance(TimeSpan.FromMinutes(40) - TimeSpan.FromSeconds(2));
        Assert.Equal(1, issuer.Calls);
        time.Advance(TimeSpan.FromSeconds(3));
        await Wait.UntilAsync(() => Task.FromResult(issuer.Calls == 2), "the certificate was renewed");
        Assert.NotEqual(first, host.Certificate);
        Assert.True(ServerCertificate.Validate(host.Certificate, serverKey.PublicKey, time.GetUtcNow().AddMinutes(59)));

        // The API node is away at the next renewal: tried again a tenth of the validity later, the old certificate still served.
        issuer.Failing = true;
        var second = host.Certificate;
        time.Advance(TimeSpan.FromMinutes(41));
        await Wait.UntilAsync(() => Task.FromResult(issuer.Calls == 3), "a renewal was tried");
        Assert.Equal(second, host.Certificate);
        issuer.Failing = false;
        time.Advance(TimeSpan.FromMinutes(6) + TimeSpan.FromSeconds(31));
        await Wait.UntilAsync(() => Task.FromResult(issuer.Calls == 4), "the renewal was tried again");
        Assert.NotEqual(second, host.Certificate);
        Assert.True(ServerCertificate.Validate(host.Certificate, serverKey.PublicKey, time.GetUtcNow().AddMinutes(59)));
    }

    [Fact]
    public async Task A_running_lobby_answers_new_players_with_the_renewed_certificate_and_keeps_its_players()
    {
        await using var platform = new Platform(new() { ["Paperclip:Cluster:HostCertificateSeconds"] = "60" });
        await using var alice = await platform.RegisterAsync("alice");
        await using var bob = await platform.RegisterAsync("bob");
        var lobby = await alice.PostAsync("/lobby/matchmake", new Dictionary<string, string> { ["game-name"] = "RPS" }, HttpStatusCode.Created);
        await alice.JoinAsync(lobby);
        // Her join must be counted before the clock jumps past her reservation's 30 s.
        var lobbyKey = lobby.GetProperty("lobby-id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Wait.UntilAsync(async () => (await alice.GetAsync("/lobby/all")).GetProperty(lobbyKey).GetProperty("members").GetInt32() == 1, "alice is a member");
        var host = platform.Services.GetRequiredService<HostCertificate>();
        var serverKey = platform.Services.GetRequiredService<ServerKeyService>().PublicKey;
        var first = host.Certificate;
        var firstNotAfter = host.NotAfter!.Value;

        // Past the renewal (two thirds of the life), then past the first certificate's end: only
        // the renewed one passes a client's check now, and the lobby took it without a restart.
        platform.Time.Advance(host.RenewAt!.Value - platform.Time.GetUtcNow() + TimeSpan.FromSeconds(1));
        await Wait.UntilAsync(() => Task.FromResult(!ReferenceEquals(first, host.Certificate)), "the certificate was renewed");
        platform.Time.Advance(firstNotAfter - platform.Time.GetUtcNow() + TimeSpan.FromSeconds(1));
        Assert.False(ServerCertificate.Validate(first, serverKey, platform.Time.GetUtcNow()));
        Assert.True(ServerCertificate.Validate(host.Certificate, serverKey, platform.Time.GetUtcNow()));

        var same = await bob.PostAsync("/lobby/matchmake", new Dictionary<string, string> { ["game-name"] = "RPS" }, HttpStatusCode.OK);
        Assert.Equal(lobby.GetProperty("lobby-id").GetInt64(), same.GetProperty("lobby-id").GetInt64());
        await bob.JoinAsync(same, platform.Time);
        Assert.True(bob.Game!.IsConnected);

        // Alice's session from before the renewal plays on with the newcomer.
        Assert.Equal("bob", alice.Presence.Next().Presence.Opponent);
        alice.Choose(Choice.Rock);
        bob.Choose(Choice.Scissors);
        Assert.Equal((int)Outcome.Win, alice.Results.Next().Outcome);
        Assert.Equal((int)Outcome.Lose, bob.Results.Next().Outcome);
    }

    private sealed class CountingIssuer(IHostCertificateIssuer inner) : IHostCertificateIssuer
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public volatile bool Failing;

        public ValueTask<byte[]> IssueAsync(ReadOnlyMemory<byte> hostPublicKey, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            return Failing ? throw new HttpRequestException("the API node is away") : inner.IssueAsync(hostPublicKey, cancellationToken);
        }
    }
}
