using System.Text.Json;
using Paperclip.Protocol.Certificates;
using Paperclip.Protocol.Crypto;

namespace Paperclip.Protocol.Tests.Packets;

/// <summary>The version2 section of the vectors: the CHANNEL codec, invalid CHANNEL datagrams, negotiation and both key agreements.</summary>
public sealed class Version2VectorTests
{
    private static JsonElement Section => Vectors.Root.GetProperty("version2");
    private static JsonElement Account => Vectors.Root.GetProperty("account");
    private static JsonElement Server => Vectors.Root.GetProperty("server");

    public static TheoryData<int> Codec => Indexes("codec");
    public static TheoryData<int> Invalid => Indexes("invalid");
    public static TheoryData<int> Handshakes => Indexes("handshakes");

    private static TheoryData<int> Indexes(string name)
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < Section.GetProperty(name).GetArrayLength(); i++)
            data.Add(i);
        return data;
    }

    private static PacketHeader Read(byte[] datagram, int version = ProtocolConstants.Version2)
    {
        Assert.True(PacketReader.TryRead(datagram, version, out var header, out var error), error.ToString());
        return header;
    }

    [Theory]
    [MemberData(nameof(Codec))]
    public void Channel_codec_vector_parses_and_writes_back_identically(int index)
    {
        var vector = Section.GetProperty("codec")[index];
        var datagram = vector.Hex("hex");
        var expect = vector.GetProperty("expect");

        var header = Read(datagram);
        Assert.Equal(PacketType.Channel, header.Type);
        var flags = PacketFlags.None;
        foreach (var flag in expect.GetProperty("flags").EnumerateArray())
            flags |= Enum.Parse<PacketFlags>(flag.GetString()!, ignoreCase: true);
        Assert.Equal(flags, header.Flags);
        Assert.Equal(expect.GetProperty("seq").GetUInt16(), header.Sequence);
        Assert.Equal(expect.GetProperty("channel").GetByte(), header.Channel);
        Assert.Equal(expect.GetProperty("sequenced").GetBoolean(), header.Sequenced);
        Assert.Equal(expect.GetProperty("cseq").GetUInt16(), header.ChannelSequence);
        if (expect.TryGetProperty("checksum", out var crc))
            Assert.Equal(crc.GetUInt32(), header.Checksum);
        if (expect.TryGetProperty("fragment_id", out var fragmentId))
        {
            Assert.Equal(fragmentId.GetByte(), header.FragmentId);
            Assert.Equal(expect.GetProperty("fragment_count").GetByte(), header.FragmentCount);
        }
        Assert.Equal(expect.Hex("data_hex"), datagram.AsSpan(header.Length).ToArray());

        var written = new byte[datagram.Length];
        var length = PacketWriter.WriteHeader(written, header);
        Assert.Equal(header.Length, length);
        Assert.Equal(PacketWriter.HeaderLength(header.Type, header.Flags), length);
        datagram.AsSpan(length).CopyTo(written.AsSpan(length));
        Assert.Equal(datagram, written);
    }

    [Fact]
    public void A_version_1_session_reads_every_channel_packet_as_a_reserved_type()
    {
        foreach (var vector in Section.GetProperty("codec").EnumerateArray())
        {
            Assert.False(PacketReader.TryRead(vector.Hex("hex"), ProtocolConstants.Version1, out _, out var error));
            Assert.Equal(PacketError.PacketType, error);
        }
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Invalid_channel_datagram_gets_its_minor(int index)
    {
        var vector = Section.GetProperty("invalid")[index];
        Assert.False(PacketReader.TryRead(vector.Hex("hex"), ProtocolConstants.Version2, out _, out var error));
        Assert.Equal(vector.Text("minor"), ErrorCode.Of(error).ToString()["PACKET / ".Length..]);
    }

    [Fact]
    public void Version_unsupported_error_lists_the_accepted_versions_in_its_data()
    {
        var datagram = Section.Hex("version_unsupported_error_hex");
        var header = Read(datagram);
        Assert.Equal(PacketType.Error, header.Type);
        Assert.Equal(ErrorCode.Of(ConnectionError.VersionUnsupported), header.Error);
        Assert.Equal(new byte[] { ProtocolConstants.Version1 }, datagram.AsSpan(header.Length).ToArray());
    }

    [Theory]
    [MemberData(nameof(Handshakes))]
    public void Handshake_auth_datagrams_reproduce_byte_for_byte(int index)
    {
        var vector = Section.GetProperty("handshakes")[index];
        using var client = ClientEphemeral(vector);
        using var server = ServerEphemeral(vector);
        Assert.True(AccountKey.TryImportEncrypted(Account.Base64("encrypted_private_key_pkcs8_b64"), Account.Text("password"), out var accountKey));
        using var _ = accountKey;
        using var serverKey = AccountKey.ImportPrivateKey(Server.Base64("private_key_pkcs8_b64"));

        var clientAuth = vector.Hex("client_auth_hex");
        var clientHeader = Read(clientAuth);
        Assert.Equal(ProtocolConstants.Version2, clientHeader.Version);
        var certificate = Account.Base64("certificate_b64");
        var signature = AuthSignature.SignClient(accountKey, client.PublicKey);
        var headerLength = PacketWriter.AuthHeaderLength(certificate.Length, client.PublicKey.Length, signature.Length);
        var built = new byte[ClientAuthData.DatagramLength(headerLength, 0)];
        PacketWriter.WriteAuthHeader(built, PacketFlags.None, clientHeader.Sequence, ProtocolConstants.Version2, certificate, client.PublicKey, signature);
        ClientAuthData.Write(built.AsSpan(headerLength), default, fallback: 0);
        Assert.Equal(clientAuth, built);

        var serverAuth = vector.Hex("server_auth_hex");
        var serverHeader = Read(serverAuth);
        Assert.Equal(ProtocolConstants.Version2, serverHeader.Version);
        var serverCertificate = Server.Base64("certificate_b64");
        var serverSignature = AuthSignature.SignServer(serverKey, clientAuth, server.PublicKey);
        var serverBuilt = new byte[PacketWriter.AuthHeaderLength(serverCertificate.Length, server.PublicKey.Length, serverSignature.Length)];
        PacketWriter.WriteAuthHeader(serverBuilt, PacketFlags.Reliable, serverHeader.Sequence, ProtocolConstants.Version2, serverCertificate, server.PublicKey, serverSignature);
        Assert.Equal(serverAuth, serverBuilt);
    }

    [Theory]
    [MemberData(nameof(Handshakes))]
    public void Handshake_keys_finished_and_sealed_datagrams_match(int index)
    {
        var vector = Section.GetProperty("handshakes")[index];
        using var client = ClientEphemeral(vector);
        using var server = ServerEphemeral(vector);
        var clientAuth = vector.Hex("client_auth_hex");
        var serverAuth = vector.Hex("server_auth_hex");
        Assert.Equal(clientAuth[Read(clientAuth).Key], client.PublicKey);
        Assert.Equal(serverAuth[Read(serverAuth).Key], server.PublicKey);

        var atClient = new byte[EphemeralKey.SharedSecretSize];
        var atServer = new byte[EphemeralKey.SharedSecretSize];
        Assert.True(client.TryDeriveSharedSecret(server.PublicKey, atClient));
        Assert.True(server.TryDeriveSharedSecret(client.PublicKey, atServer));
        Assert.Equal(vector.Hex("z_hex"), atClient);
        Assert.Equal(vector.Hex("z_hex"), atServer);

        var th = new byte[32];
        SessionKeys.ComputeTranscriptHash(clientAuth, serverAuth, th);
        Assert.Equal(vector.Hex("th_hex"), th);
        using var keys = SessionKeys.Derive(atClient, th);
        Assert.Equal(vector.Hex("k_c2s_hex"), keys.ClientToServerKey.ToArray());
        Assert.Equal(vector.Hex("k_s2c_hex"), keys.ServerToClientKey.ToArray());
        Assert.Equal(vector.Hex("iv_c2s_hex"), keys.ClientToServerIv.ToArray());
        Assert.Equal(vector.Hex("iv_s2c_hex"), keys.ServerToClientIv.ToArray());
        Assert.Equal(vector.Hex("k_fin_hex"), keys.FinishedKey.ToArray());
        var serverAck = vector.Hex("server_finished_ack_hex");
        var clientAck = vector.Hex("client_finished_ack_hex");
        Assert.True(keys.VerifyServerFinished(serverAck.AsSpan(Read(serverAck).Length)));
        Assert.True(keys.VerifyClientFinished(clientAck.AsSpan(Read(clientAck).Length)));
        Assert.Equal(vector.Hex("sf_hex"), serverAck.AsSpan(Read(serverAck).Length).ToArray());
        Assert.Equal(vector.Hex("cf_hex"), clientAck.AsSpan(Read(clientAck).Length).ToArray());

        using var clientSender = keys.CreateSender(isClient: true);
        using var serverSender = keys.CreateSender(isClient: false);
        using var clientReceiver = keys.CreateReceiver(isClient: true);
        using var serverReceiver = keys.CreateReceiver(isClient: false);
        var channelPackets = 0;
        foreach (var entry in vector.GetProperty("sealed").EnumerateArray())
        {
            var fromClient = entry.Text("from") == "client";
            var expected = entry.Hex("hex");
            var plaintext = entry.Hex("plaintext_hex");
            var header = Read(expected);
            Assert.Equal(entry.GetProperty("pn").GetUInt64(), header.PacketNumber);
            var opened = (byte[])expected.Clone();
            Assert.True((fromClient ? serverReceiver : clientReceiver).TryOpen(opened, header.Length, header.PacketNumber, out var length));
            Assert.Equal(plaintext, opened.AsSpan(header.Length, length).ToArray());
            var resealed = new byte[expected.Length];
            expected.AsSpan(0, header.Length).CopyTo(resealed);
            plaintext.CopyTo(resealed, header.Length);
            (fromClient ? clientSender : serverSender).Seal(resealed, header.Length, plaintext.Length, header.PacketNumber);
            Assert.Equal(expected, resealed);

            if (header.Type == PacketType.Channel)
                channelPackets++;
            if (header.Type != PacketType.Batch)
                continue;
            var batch = new BatchReader(plaintext);
            while (batch.TryReadNext(out var inner))
            {
                Assert.True(PacketReader.TryRead(inner, ProtocolConstants.Version2, out var innerHeader, out var error), error.ToString());
                if (innerHeader.Type == PacketType.Channel)
                    channelPackets++;
            }
            Assert.False(batch.IsMalformed);
        }
        Assert.Equal(3, channelPackets);
    }

    [Fact]
    public void Fallback_client_auth_is_version_1_with_fallback_2_and_reproduces_byte_for_byte()
    {
        var auth = Section.Hex("fallback_client_auth_hex");
        var header = Read(auth, ProtocolConstants.Version1);
        Assert.Equal(ProtocolConstants.Version1, header.Version);
        Assert.True(ClientAuthData.TryRead(auth.AsSpan(header.Length), out var cookie, out var fallback));
        Assert.True(cookie.IsEmpty);
        Assert.Equal(ProtocolConstants.Version2, fallback);

        using var ephemeral = EphemeralKey.FromPrivateScalar(Convert.FromHexString(new string('7', 64)));
        Assert.True(AccountKey.TryImportEncrypted(Account.Base64("encrypted_private_key_pkcs8_b64"), Account.Text("password"), out var accountKey));
        using var _ = accountKey;
        var certificate = Account.Base64("certificate_b64");
        var signature = AuthSignature.SignClient(accountKey, ephemeral.PublicKey);
        var headerLength = PacketWriter.AuthHeaderLength(certificate.Length, ephemeral.PublicKey.Length, signature.Length);
        var built = new byte[ClientAuthData.DatagramLength(headerLength, 0)];
        PacketWriter.WriteAuthHeader(built, PacketFlags.None, header.Sequence, ProtocolConstants.Version1, certificate, ephemeral.PublicKey, signature);
        ClientAuthData.Write(built.AsSpan(headerLength), default, ProtocolConstants.Version2);
        Assert.Equal(auth, built);
    }

    private static EphemeralKey ClientEphemeral(JsonElement vector) =>
        vector.TryGetProperty("client_ephemeral_x25519_private_hex", out _)
            ? EphemeralKey.FromX25519PrivateKey(vector.Hex("client_ephemeral_x25519_private_hex"))
            : EphemeralKey.FromPrivateScalar(vector.Hex("client_ephemeral_p256_scalar_hex"));

    private static EphemeralKey ServerEphemeral(JsonElement vector) =>
        vector.TryGetProperty("server_ephemeral_x25519_private_hex", out _)
            ? EphemeralKey.FromX25519PrivateKey(vector.Hex("server_ephemeral_x25519_private_hex"))
            : EphemeralKey.FromPrivateScalar(vector.Hex("server_ephemeral_p256_scalar_hex"));
}
