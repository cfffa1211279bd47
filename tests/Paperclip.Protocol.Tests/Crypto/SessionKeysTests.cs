using System.Security.Cryptography;
using Paperclip.Protocol.Certificates;
using Paperclip.Protocol.Crypto;

namespace Paperclip.Protocol.Tests.Crypto;

/// <summary>The key schedule and the Finished MACs (protocol §6.2), end to end with fresh keys.</summary>
public sealed class SessionKeysTests
{
    private static SessionKeys RandomKeys() => SessionKeys.Derive(RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void Fresh_handshake_with_ecdsa_certificates_connects_both_sides()
    {
        var now = DateTimeOffset.UtcNow;
        using var accountKey = AccountKey.Generate();
        using var serverKey = AccountKey.Generate();
        var accountCertificate = AccountCertificate.Create(accountKey, 7, "Peach", now.AddMinutes(-1), TimeSpan.FromHours(1));
        var serverCertificate = ServerCertificate.Create(serverKey, now.AddMinutes(-1), TimeSpan.FromHours(1));
        using var clientEphemeral = EphemeralKey.Generate();
        using var serverEphemeral = EphemeralKey.Generate();

        // The datagrams only need to be the same bytes on both sides; their layout is the codec's business.
        var clientSig = AuthSignature.SignClient(accountKey, clientEphemeral.PublicKey);
        var clientAuth = new byte[1200];
        PacketWriter.WriteAuthHeader(clientAuth, PacketFlags.None, 0, accountCertificate, clientEphemeral.PublicKey, clientSig);
        var serverSig = AuthSignature.SignServer(serverKey, clientAuth, serverEphemeral.PublicKey);
        var serverAuth = new byte[PacketWriter.AuthHeaderLength(serverCertificate.Length, serverEphemeral.PublicKey.Length, serverSig.Length)];
        PacketWriter.WriteAuthHeader(serverAuth, PacketFlags.Reliable, 0, serverCertificate, serverEphemeral.PublicKey, serverSig);

        Assert.True(AuthSignature.VerifyClient(accountCertificate, clientEphemeral.PublicKey, clientSig));
        Assert.True(AuthSignature.VerifyServer(serverCertificate, clientAuth, serverEphemeral.PublicKey, serverSig));

        var th = new byte[32];
        SessionKeys.ComputeTranscriptHash(clientAuth, serverAuth, th);
        var zClient = new byte[32];
        var zServer = new byte[32];
        Assert.True(clientEphemeral.TryDeriveSharedSecret(serverEphemeral.PublicKey, zClient));
        Assert.True(serverEphemeral.TryDeriveSharedSecret(clientEphemeral.PublicKey, zServer));
        using var client = SessionKeys.Derive(zClient, th);
        using var server = SessionKeys.Derive(zServer, th);

        var sf = new byte[SessionKeys.FinishedSize];
        server.ComputeServerFinished(sf);
        Assert.True(client.VerifyServerFinished(sf));
        var cf = new byte[SessionKeys.FinishedSize];
        client.ComputeClientFinished(cf);
        Assert.True(server.VerifyClientFinished(cf));

        using var clientSends = client.CreateSender(isClient: true);
        using var serverReceives = server.CreateReceiver(isClient: false);
        var datagram = new byte[11 + 5 + 16];
        datagram[0] = 0x08;
        "hello"u8.CopyTo(datagram.AsSpan(11));
        clientSends.Seal(datagram, 11, 5, 0);
        Assert.True(serverReceives.TryOpen(datagram, 11, 0, out var length));
        Assert.Equal("hello"u8.ToArray(), datagram.AsSpan(11, length).ToArray());
    }

    [Fact]
    public void Directions_use_different_keys()
    {
        using var keys = RandomKeys();
        Assert.False(keys.ClientToServerKey.SequenceEqual(keys.ServerToClientKey));
        Assert.False(keys.ClientToServerIv.SequenceEqual(keys.ServerToClientIv));

        // A client's own sender cannot open what it sent: no reflection.
        using var clientSends = keys.CreateSender(isClient: true);
        using var clientReceives = keys.CreateReceiver(isClient: true);
        using var serverReceives = keys.CreateReceiver(isClient: false);
        var datagram = new byte[11 + 16];
        clientSends.Seal(datagram, 11, 0, 3);
        Assert.False(clientReceives.TryOpen((byte[])datagram.Clone(), 11, 3, out _));
        Assert.True(serverReceives.TryOpen(datagram, 11, 3, out _));
    }

    [Fact]
    public void Wrong_or_short_finished_is_refused()
    {
        using var keys = RandomKeys();
        var sf = new byte[32];
        keys.ComputeServerFinished(sf);
        Assert.False(keys.VerifyServerFinished(sf.AsSpan(0, 31)));
        Assert.False(keys.VerifyServerFinished([.. sf, 0]));
        Assert.False(keys.VerifyServerFinished([]));
        sf[0] ^= 1;
        Assert.False(keys.VerifyServerFinished(sf));
    }

    [Fact]
    public void Different_transcripts_give_different_keys()
    {
        var z = RandomNumberGenerator.GetBytes(32);
        var th = RandomNumberGenerator.GetBytes(32);
        using var a = SessionKeys.Derive(z, th);
        th[0] ^= 1;
        using var b = SessionKeys.Derive(z, th);
        Assert.False(a.ClientToServerKey.SequenceEqual(b.ClientToServerKey));
        var sf = new byte[32];
        a.ComputeServerFinished(sf);
        Assert.False(b.VerifyServerFinished(sf));
    }

    [Fact]
    public void Disposed_keys_are_unreachable()
    {
        var keys = RandomKeys();
        keys.Dispose();
        keys.Dispose();
        Assert.Throws<ObjectDisposedException>(() => keys.ClientToServerKey.Length);
        Assert.Throws<ObjectDisposedException>(() => keys.ComputeClientFinished(new byte[32]));
        Assert.Throws<ObjectDisposedException>(() => keys.CreateSender(isClient: true));
    }

    [Fact]
    public void Sizes_are_checked()
    {
        Assert.Throws<ArgumentException>(() => SessionKeys.ComputeTranscriptHash([1], [2], new byte[31]));
        Assert.Throws<ArgumentException>(() => SessionKeys.Derive(new byte[32], new byte[31]));
        Assert.Throws<ArgumentException>(() => SessionKeys.Derive(new byte[31], new byte[32]));
    }
}
