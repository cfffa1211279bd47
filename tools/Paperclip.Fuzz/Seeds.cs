using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Paperclip.Protocol;
using Paperclip.Protocol.Certificates;
using Paperclip.Protocol.Crypto;

namespace Paperclip.Fuzz;

/// <summary>
/// Seed inputs per target: the packets, keys and certificates of <c>vectors.json</c>, and inputs
/// made with the protocol's own writers the way the tests make them (fragments, batches,
/// compressed data, fresh keys and certificates).
/// </summary>
public static class Seeds
{
    public static IEnumerable<byte[]> For(string target) => target switch
    {
        "packet" => Packets(),
        "batch" => Batches(),
        "reassembly" => FragmentSequences(),
        "inflate" => Compressed(),
        "auth" => [VectorData.Hex("handshake", "client_auth_hex"), VectorData.Hex("handshake", "server_auth_hex")],
        "handshake" => HandshakeScripts(),
        "certificate" => Certificates(),
        "spki" => PublicKeys(),
        "pkcs8" => PrivateKeys(),
        "rest" => Requests(),
        _ => throw new ArgumentException($"No target '{target}'.", nameof(target)),
    };

    private static IEnumerable<byte[]> Packets()
    {
        foreach (var hex in VectorData.HexEntries("codec", "hex").Concat(VectorData.HexEntries("invalid", "hex")))
            yield return hex;
        foreach (var name in (string[])["client_auth_hex", "server_auth_hex", "server_finished_ack_hex", "client_finished_ack_hex"])
            yield return VectorData.Hex("handshake", name);
        foreach (var sealedDatagram in VectorData.Root.GetProperty("handshake").GetProperty("sealed").EnumerateArray())
            yield return Convert.FromHexString(sealedDatagram.GetProperty("hex").GetString()!);

        // Every type with each flag it admits, and all of them at once.
        foreach (var type in (PacketType[])[PacketType.Default, PacketType.Ack, PacketType.Heartbeat, PacketType.Error, PacketType.Batch])
        {
            var allowed = PacketRules.AllowedFlags(type);
            foreach (var flag in (PacketFlags[])[PacketFlags.None, PacketFlags.Reliable, PacketFlags.Checksum, PacketFlags.Compressed, PacketFlags.Encrypted, PacketFlags.Frag, allowed])
            {
                if ((flag & ~allowed) == 0)
                    yield return Packet(type, flag, "data"u8);
            }
        }
    }

    private static IEnumerable<byte[]> Batches()
    {
        foreach (var data in VectorData.HexEntries("batch_invalid", "data_hex"))
            yield return data;
        foreach (var sealedDatagram in VectorData.Root.GetProperty("handshake").GetProperty("sealed").EnumerateArray())
        {
            var plaintext = Convert.FromHexString(sealedDatagram.GetProperty("plaintext_hex").GetString()!);
            if (new BatchReader(plaintext).TryReadNext(out _))
                yield return plaintext;
        }
        yield return BatchOf(Packet(PacketType.Ack, PacketFlags.None, []), Packet(PacketType.Heartbeat, PacketFlags.Reliable, []),
            Packet(PacketType.Default, PacketFlags.Reliable | PacketFlags.Checksum, "hello"u8), Packet(PacketType.Error, PacketFlags.None, "bye"u8));
        yield return BatchOf(Fragments(Encoding.UTF8.GetBytes(new string('x', 40)), 16, PacketFlags.Reliable | PacketFlags.Checksum, 7));
    }

    private static IEnumerable<byte[]> FragmentSequences()
    {
        var message = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 60).Select(i => $"line {i};")));
        var fragments = Fragments(message, 100, PacketFlags.Reliable | PacketFlags.Checksum, 1);
        yield return Records(fragments.Select(f => (1, f)));
        yield return Records(fragments.Reverse().Select(f => (1, f)));
        yield return Records(fragments.Take(2).Concat(fragments).Select(f => (1, f)));
        // Two peers interleaved, one of them timing out between fragments.
        yield return Records(fragments.SelectMany(f => new[] { (0x01, f), (0x81 | 0x40, f) }));
        // A compressed message, and one that would pass the message cap.
        var compressed = new byte[Deflate.MaxCompressedLength(message.Length)];
        var length = Deflate.Compress(message, compressed);
        yield return Records(Fragments(compressed.AsSpan(0, length).ToArray(), 64, PacketFlags.Compressed, 2).Select(f => (1, f)));
        yield return Records(Fragments(new byte[9000], 1000, PacketFlags.None, 3).Select(f => (0, f)));
        // Fragments that disagree: another count, another checksum, ENCRYPTED with room for a tag.
        var sealedHeader = PacketHeader.Create(PacketType.Default, PacketFlags.Frag | PacketFlags.Encrypted, 1);
        sealedHeader.FragmentCount = (byte)fragments.Length;
        yield return Records([(1, fragments[0]), (1, Packet(sealedHeader, new byte[20 + ProtocolConstants.TagSize])), (1, fragments[1])]);
    }

    // The handshake target's scripts (CONFIG, then records STEP, LEN, BYTES; see HandshakeTarget).
    private static IEnumerable<byte[]> HandshakeScripts()
    {
        const int ToClient = 0, ToServer = 1, Answers = 2, Finished = 3, Variant = 4, Tick = 0x10;
        const byte Version1 = 0, Version2X25519 = 2, Version2Fallback = 3, LargeDatagrams = 4, ServerVersion1Only = 8;
        byte[] none = [];
        // The vectors' server answering each vector client's AUTH, in order, reordered, late and corrupted.
        var vectors = (JsonElement[])[VectorData.Root.GetProperty("handshake"), .. VectorData.Root.GetProperty("version2").GetProperty("handshakes").EnumerateArray()];
        for (var client = 0; client < 4; client++)
        {
            var vector = vectors[Math.Min(client, vectors.Length - 1)];
            var serverAuth = Convert.FromHexString(vector.GetProperty("server_auth_hex").GetString()!);
            var serverFinished = Convert.FromHexString(vector.GetProperty("server_finished_ack_hex").GetString()!);
            yield return [(byte)client, .. Records([(ToClient, serverAuth), (ToClient, serverFinished)])];
            yield return [(byte)client, .. Records([(ToClient, serverFinished), (ToClient | (3 * Tick), Corrupt(serverAuth, 900)), (ToClient, serverAuth)])];
        }
        // Our server: without cookies; demanding one (which fits a version-1 AUTH only with larger datagrams); an AUTH, an answer and a Finished corrupted once.
        foreach (var config in (byte[])[Version1, Version2X25519])
            yield return [config, .. Records([(ToServer, none), (Answers, none), (Finished, none)])];
        foreach (var config in (byte[])[Version1, Version1 | LargeDatagrams, Version2X25519])
            yield return [config, .. Records([(ToServer | Variant, none), (ToServer | Variant, none), (Answers | Variant, none), (Finished, [0, 10, 0xFF]), (Finished, none)])];
        yield return [Version2X25519, .. Records([(ToServer | Variant, none), (ToServer | Variant, [0x04, 0x78, 0x01]), (ToServer | Variant | (15 * Tick), none), (ToServer | Variant, none), (Answers, none), (Finished, none)])];
        yield return [Version1, .. Records([(ToServer, [0x04, 0xA9, 0x01]), (ToServer, none), (Answers, [0x01, 0x00, 0x80]), (Answers, none), (Finished, none)])];
        // A server of version 1 only: the client falls back when allowed, and gives up otherwise.
        foreach (var config in (byte[])[Version2Fallback | ServerVersion1Only, Version2X25519 | ServerVersion1Only])
            yield return [config, .. Records([(ToServer, none), (ToServer, none), (Answers, none), (Finished, none)])];
        yield return [Version2Fallback, .. Records([(ToClient, VectorData.Hex("version2", "version_unsupported_error_hex")), (ToServer, none), (Answers, none), (Finished, none)])];
        // Refusals and RETRYs from anyone on the path, and the timer running out.
        foreach (var (error, data) in ((ConnectionError, byte[])[])[(ConnectionError.CertificateInvalid, []), (ConnectionError.Retry, new byte[20]), (ConnectionError.Retry, new byte[255]), (ConnectionError.NoSpace, "full"u8.ToArray()), (ConnectionError.VersionUnsupported, [1, 2])])
        {
            var header = PacketHeader.Create(PacketType.Error, PacketFlags.None, 0);
            header.Error = ErrorCode.Of(error);
            yield return [Version2Fallback | LargeDatagrams, .. Records([(ToClient, Packet(header, data)), (ToClient, Packet(header, data)), (ToServer, none), (Answers, none)])];
        }
        yield return [Version1, .. Records(Enumerable.Repeat((ToClient | (15 * Tick), none), 8))];
    }

    private static byte[] Corrupt(byte[] datagram, int at)
    {
        var copy = datagram.ToArray();
        copy[at] ^= 1;
        return copy;
    }

    private static IEnumerable<byte[]> Compressed()
    {
        foreach (var data in (byte[][])[[], "hello"u8.ToArray(), Encoding.UTF8.GetBytes(new string('a', 2000)), new byte[ProtocolConstants.MaxMessageSize + 1], RandomBytes(600)])
        {
            var compressed = new byte[Deflate.MaxCompressedLength(data.Length)];
            yield return compressed.AsSpan(0, Deflate.Compress(data, compressed)).ToArray();
        }
    }

    private static IEnumerable<byte[]> Certificates()
    {
        yield return VectorData.Base64("account", "certificate_b64");
        yield return VectorData.Base64("account", "forged_certificate_b64");
        yield return VectorData.Base64("server", "certificate_b64");
        using var ec = AccountKey.Generate(KeyAlgorithm.EcdsaP256);
        yield return AccountCertificate.Create(ec, 42, "luigi", VectorData.CheckTime.AddHours(-1), TimeSpan.FromHours(2));
        yield return ServerCertificate.Create(ec, VectorData.CheckTime.AddHours(-1), TimeSpan.FromDays(30));
    }

    private static IEnumerable<byte[]> PublicKeys()
    {
        yield return VectorData.AccountPublicKey;
        yield return VectorData.ServerPublicKey;
        var auth = VectorData.Hex("handshake", "client_auth_hex");
        PacketReader.TryRead(auth, out var header, out _);
        yield return auth[header.Key];
        using var ephemeral = EphemeralKey.Generate();
        yield return ephemeral.PublicKey;
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        yield return p384.ExportSubjectPublicKeyInfo();
        using var rsa = RSA.Create(1024);
        yield return rsa.ExportSubjectPublicKeyInfo();
    }

    private static IEnumerable<byte[]> PrivateKeys()
    {
        yield return VectorData.Base64("account", "encrypted_private_key_pkcs8_b64");
        yield return VectorData.Base64("server", "private_key_pkcs8_b64");
        using var ec = AccountKey.Generate(KeyAlgorithm.EcdsaP256);
        // Few iterations, so that the fuzzer's mutations of a key that decrypts stay fast.
        yield return ((ECDsa)ec).ExportEncryptedPkcs8PrivateKey(VectorData.AccountPassword, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 1));
        yield return ((ECDsa)ec).ExportPkcs8PrivateKey();
    }

    private static IEnumerable<byte[]> Requests()
    {
        var certificate = VectorData.Root.GetProperty("account").GetProperty("certificate_b64").GetString()!;
        foreach (var request in (string[])[
            "\x01\n{\"username\":\"Mario\",\"password\":\"ItsAMe123\"}",
            "\x01\n{\"lobby-id\":5,\"game-id\":1,\"game-name\":\"rock-paper-scissors\"}",
            $"\x01\n{{\"certificate\":\"{certificate}\"}}",
            "\x00lobby-id=5&game-id=-1&game-name=rps&username=a%20b",
            $"\x00certificate={certificate.Replace("+", "%2B", StringComparison.Ordinal)}",
            "\x02\n{\"username\":\"\\ud800\",\"game-id\":1e400,\"a\":[[[[{}]]]]}",
            "\x01game-id=1\n[\"not\",\"an object\"]",
            "\x03\n{\"username\":null,\"password\":12,\"lobby-id\":\"7\"",
        ])
            yield return Encoding.UTF8.GetBytes(request);
    }

    // The fragments of a message as the transport sends them: FRAG, one SEQ, CRC of the whole message.
    private static byte[][] Fragments(byte[] message, int chunk, PacketFlags flags, ushort sequence)
    {
        var count = Fragmenter.FragmentCount(message.Length, chunk);
        var header = PacketHeader.Create(PacketType.Default, flags | PacketFlags.Frag | PacketFlags.Checksum, sequence);
        header.FragmentCount = (byte)count;
        header.Checksum = Checksum.Compute(message);
        return Enumerable.Range(0, count).Select(i =>
        {
            header.FragmentId = (byte)i;
            return Packet(header, Fragmenter.Chunk(message, i, chunk));
        }).ToArray();
    }

    private static byte[] Packet(PacketType type, PacketFlags flags, ReadOnlySpan<byte> data)
    {
        var header = PacketHeader.Create(type, flags, 0x1234);
        header.FragmentCount = 2;
        header.AckId = 0x1234;
        header.AckBits = 0x8001;
        header.Beat = HeartbeatKind.Pong;
        header.Error = ErrorCode.Of(DisconnectReason.Timeout);
        header.Checksum = Checksum.Compute(data);
        return Packet(header, (flags & PacketFlags.Encrypted) != 0 ? [.. data, .. new byte[ProtocolConstants.TagSize]] : data);
    }

    private static byte[] Packet(in PacketHeader header, ReadOnlySpan<byte> data)
    {
        var packet = new byte[PacketWriter.HeaderLength(header.Type, header.Flags) + data.Length];
        var length = PacketWriter.WriteHeader(packet, header);
        data.CopyTo(packet.AsSpan(length));
        return packet;
    }

    private static byte[] BatchOf(params byte[][] packets)
    {
        var data = new byte[packets.Sum(p => Batch.EntryOverhead + p.Length)];
        var position = 0;
        foreach (var packet in packets)
        {
            Batch.WriteEntryLength(data.AsSpan(position), packet.Length);
            packet.CopyTo(data, position + Batch.EntryOverhead);
            position += Batch.EntryOverhead + packet.Length;
        }
        return data;
    }

    // The reassembly target's input: STEP u8, LEN u16, packet.
    private static byte[] Records(IEnumerable<(int Step, byte[] Packet)> records)
    {
        var output = new MemoryStream();
        Span<byte> length = stackalloc byte[2];
        foreach (var (step, packet) in records)
        {
            output.WriteByte((byte)step);
            BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)packet.Length);
            output.Write(length);
            output.Write(packet);
        }
        return output.ToArray();
    }

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        new Random(18).NextBytes(bytes);
        return bytes;
    }
}
