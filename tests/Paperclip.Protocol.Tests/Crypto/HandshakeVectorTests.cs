using System.Security.Cryptography;
using System.Text.Json;
using Paperclip.Protocol.Certificates;
using Paperclip.Protocol.Crypto;

namespace Paperclip.Protocol.Tests.Crypto;

/// <summary>The handshake section of the vectors: keys, signatures, key schedule, Finished and sealed datagrams.</summary>
public sealed class HandshakeVectorTests
{
    private static JsonElement Handshake => Vectors.Root.GetProperty("handshake");
    private static JsonElement Account => Vectors.Root.GetProperty("account");
    private static JsonElement Server => Vectors.Root.GetProperty("server");

    private static byte[] ClientAuth => Handshake.Hex("client_auth_hex");
    private static byte[] ServerAuth => Handshake.Hex("server_auth_hex");

    private static PacketHeader ReadHeader(byte[] datagram)
    {
        Assert.True(PacketReader.TryRead(datagram, out var header, out var error), error.ToString());
        return header;
    }

    private static SessionKeys DeriveFromVectors()
    {
        var th = new byte[32];
        SessionKeys.ComputeTranscriptHash(ClientAuth, ServerAuth, th);
        return SessionKeys.Derive(Handshake.Hex("z_hex"), th);
    }

    [Fact]
    public void Ephemeral_keys_from_the_scalars_are_the_auth_keys()
    {
        using var client = EphemeralKey.FromPrivateScalar(Handshake.Hex("client_ephemeral_private_scalar_hex"));
        using var server = EphemeralKey.FromPrivateScalar(Handshake.Hex("server_ephemeral_private_scalar_hex"));
        var clientAuth = ClientAuth;
        var serverAuth = ServerAuth;

        Assert.Equal(clientAuth[ReadHeader(clientAuth).Key], client.PublicKey);
        Assert.Equal(serverAuth[ReadHeader(serverAuth).Key], server.PublicKey);
    }

    [Fact]
    public void Auth_datagrams_carry_the_account_and_server_certificates()
    {
        var clientAuth = ClientAuth;
        var serverAuth = ServerAuth;
        Assert.Equal(Account.Base64("certificate_b64"), clientAuth[ReadHeader(clientAuth).Certificate]);
        Assert.Equal(Server.Base64("certificate_b64"), serverAuth[ReadHeader(serverAuth).Certificate]);
    }

    [Fact]
    public void Both_sides_derive_z()
    {
        using var client = EphemeralKey.FromPrivateScalar(Handshake.Hex("client_ephemeral_private_scalar_hex"));
        using var server = EphemeralKey.FromPrivateScalar(Handshake.Hex("server_ephemeral_private_scalar_hex"));
        var atClient = new byte[EphemeralKey.SharedSecretSize];
        var atServer = new byte[EphemeralKey.SharedSecretSize];

        Assert.True(client.TryDeriveSharedSecret(server.PublicKey, atClient));
        Assert.True(server.TryDeriveSharedSecret(client.PublicKey, atServer));
        Assert.Equal(Handshake.Hex("z_hex"), atClient);
        Assert.Equal(Handshake.Hex("z_hex"), atServer);
    }

    [Fact]
    public void Client_signature_verifies_with_the_account_certificate()
    {
        var auth = ClientAuth;
        var header = ReadHeader(auth);
        Assert.True(AuthSignature.VerifyClient(auth[header.Certificate], auth[header.Key], auth[header.Signature]));
        // The same signature does not pass as a server signature, nor under the server's certificate.
        Assert.False(AuthSignature.VerifyServer(auth[header.Certificate], auth, auth[header.Key], auth[header.Signature]));
        Assert.False(AuthSignature.VerifyClient(Server.Base64("certificate_b64"), auth[header.Key], auth[header.Signature]));
    }

    [Fact]
    public void Server_signature_covers_the_client_auth_datagram()
    {
        var clientAuth = ClientAuth;
        var auth = ServerAuth;
        var header = ReadHeader(auth);
        Assert.True(AuthSignature.VerifyServer(auth[header.Certificate], clientAuth, auth[header.Key], auth[header.Signature]));

        clientAuth[^1] ^= 1;
        Assert.False(AuthSignature.VerifyServer(auth[header.Certificate], clientAuth, auth[header.Key], auth[header.Signature]));
    }

    [Fact]
    public void Rsa_signatures_reproduce_byte_for_byte()
    {
        Assert.True(AccountKey.TryImportEncrypted(Account.Base64("encrypted_private_key_pkcs8_b64"), Account.Text("password"), out var accountKey));
        using var _ = accountKey;
        using var serverKey = AccountKey.ImportPrivateKey(Server.Base64("private_key_pkcs8_b64"));
        var clientAuth = ClientAuth;
        var serverAuth = ServerAuth;
        var clientHeader = ReadHeader(clientAuth);
        var serverHeader = ReadHeader(serverAuth);

        Assert.Equal(clientAuth[clientHeader.Signature], AuthSignature.SignClient(accountKey, clientAuth[clientHeader.Key]));
        Assert.Equal(serverAuth[serverHeader.Signature], AuthSignature.SignServer(serverKey, clientAuth, serverAuth[serverHeader.Key]));
    }

    [Fact]
    public void Transcript_hash_and_key_schedule_match()
    {
        var th = new byte[32];
        SessionKeys.ComputeTranscriptHash(ClientAuth, ServerAuth, th);
        Assert.Equal(Handshake.Hex("th_hex"), th);

        using var keys = SessionKeys.Derive(Handshake.Hex("z_hex"), th);
        Assert.Equal(Handshake.Hex("k_c2s_hex"), keys.ClientToServerKey.ToArray());
        Assert.Equal(Handshake.Hex("k_s2c_hex"), keys.ServerToClientKey.ToArray());
        Assert.Equal(Handshake.Hex("iv_c2s_hex"), keys.ClientToServerIv.ToArray());
        Assert.Equal(Handshake.Hex("iv_s2c_hex"), keys.ServerToClientIv.ToArray());
        Assert.Equal(Handshake.Hex("k_fin_hex"), keys.FinishedKey.ToArray());
        Assert.Equal(th, keys.TranscriptHash.ToArray());
    }

    [Fact]
    public void Prk_matches()
    {
        // HKDF-Extract(salt = TH, IKM = Z), checked on its own so a mismatch points at the extract step.
        var prk = HKDF.Extract(HashAlgorithmName.SHA256, Handshake.Hex("z_hex"), Handshake.Hex("th_hex"));
        Assert.Equal(Handshake.Hex("prk_hex"), prk);
    }

    [Fact]
    public void Finished_macs_match_and_are_carried_by_the_finished_acks()
    {
        using var keys = DeriveFromVectors();
        var sf = new byte[SessionKeys.FinishedSize];
        var cf = new byte[SessionKeys.FinishedSize];
        keys.ComputeServerFinished(sf);
        keys.ComputeClientFinished(cf);
        Assert.Equal(Handshake.Hex("sf_hex"), sf);
        Assert.Equal(Handshake.Hex("cf_hex"), cf);

        var serverAck = Handshake.Hex("server_finished_ack_hex");
        var clientAck = Handshake.Hex("client_finished_ack_hex");
        Assert.True(keys.VerifyServerFinished(serverAck.AsSpan(ReadHeader(serverAck).Length)));
        Assert.True(keys.VerifyClientFinished(clientAck.AsSpan(ReadHeader(clientAck).Length)));
        // Each MAC only verifies in its own role.
        Assert.False(keys.VerifyClientFinished(sf));
        Assert.False(keys.VerifyServerFinished(cf));
    }

    [Fact]
    public void Every_sealed_datagram_opens_and_reseals_identically()
    {
        using var keys = DeriveFromVectors();
        using var clientSender = keys.CreateSender(isClient: true);
        using var serverSender = keys.CreateSender(isClient: false);
        using var clientReceiver = keys.CreateReceiver(isClient: true);
        using var serverReceiver = keys.CreateReceiver(isClient: false);

        var count = 0;
        foreach (var entry in Handshake.GetProperty("sealed").EnumerateArray())
        {
            var fromClient = entry.Text("from") == "client";
            var receiver = fromClient ? serverReceiver : clientReceiver;
            var sender = fromClient ? clientSender : serverSender;
            var expected = entry.Hex("hex");
            var plaintext = entry.Hex("plaintext_hex");
            var header = ReadHeader(expected);
            Assert.Equal(entry.GetProperty("pn").GetUInt64(), header.PacketNumber);
            Assert.Equal(entry.GetProperty("seq").GetUInt16(), header.Sequence);

            var opened = (byte[])expected.Clone();
            Assert.True(receiver.TryOpen(opened, header.Length, header.PacketNumber, out var length));
            Assert.Equal(plaintext, opened.AsSpan(header.Length, length).ToArray());
            // The other direction's key does not open it.
            var wrong = (byte[])expected.Clone();
            Assert.False((fromClient ? clientReceiver : serverReceiver).TryOpen(wrong, header.Length, header.PacketNumber, out _));

            var resealed = new byte[expected.Length];
            expected.AsSpan(0, header.Length).CopyTo(resealed);
            plaintext.CopyTo(resealed, header.Length);
            Assert.Equal(expected.Length, sender.Seal(resealed, header.Length, plaintext.Length, header.PacketNumber));
            Assert.Equal(expected, resealed);
            count++;
        }
        Assert.Equal(6, count);
    }
}
