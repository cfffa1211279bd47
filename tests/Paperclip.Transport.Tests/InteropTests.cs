using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using Paperclip.Protocol;
using Paperclip.Protocol.Certificates;
using Paperclip.Protocol.Crypto;
using Paperclip.Protocol.Tests;

namespace Paperclip.Transport.Tests;

/// <summary>
/// A client written only from the spec and the independent implementation's vectors (its
/// exact AUTH datagram, its ephemeral key, its account) completes a handshake with our server
/// and exchanges sealed packets: interoperability at the byte level.
/// </summary>
public sealed class InteropTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Vector_client_completes_a_handshake_and_exchanges_sealed_packets()
    {
        var handshake = Vectors.Root.GetProperty("handshake");
        var account = Vectors.Root.GetProperty("account");
        var serverVectors = Vectors.Root.GetProperty("server");
        var clock = new FakeTimeProvider(Vectors.CheckTime);
        var validator = new KnownKeysCertificateValidator(clock);
        validator.Add(account.GetProperty("account-id").GetInt64(), account.Base64("public_key_spki_b64"));
        var joined = new TaskCompletionSource<PaperclipConnection>();
        var received = new TaskCompletionSource<byte[]>();
        await using var server = new PaperclipServer(new PaperclipServerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            Certificate = serverVectors.Base64("certificate_b64"),
            PrivateKey = AccountKey.ImportPrivateKey(serverVectors.Base64("private_key_pkcs8_b64")),
            CertificateValidator = validator,
            CookieMode = CookieMode.Off,
            TimeProvider = clock,
        });
        server.ClientJoined += (_, e) => joined.TrySetResult(e.Connection);
        server.DataReceived += (_, data, _) => received.TrySetResult(data.ToArray());
        server.Start();

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var clientAuth = handshake.Hex("client_auth_hex");
        await socket.SendToAsync(clientAuth, server.LocalEndPoint, Token);

        // The server's AUTH (RELIABLE) and its ACK carrying SF, in either order.
        byte[]? serverAuth = null, serverFinishedAck = null;
        while (serverAuth is null || serverFinishedAck is null)
        {
            var datagram = await ReceiveAsync(socket);
            if (datagram[0] == 0x41)
                serverAuth = datagram;
            else if (datagram[0] == 0x20)
                serverFinishedAck = datagram;
        }

        Assert.True(PacketReader.TryRead(serverAuth, out var authHeader, out _));
        Assert.Equal(serverVectors.Base64("certificate_b64"), serverAuth[authHeader.Certificate]);
        Assert.True(AuthSignature.VerifyServer(serverAuth[authHeader.Certificate], clientAuth, serverAuth[authHeader.Key], serverAuth[authHeader.Signature]));

        using var ephemeral = EphemeralKey.FromPrivateScalar(handshake.Hex("client_ephemeral_private_scalar_hex"));
        var z = new byte[32];
        Assert.True(ephemeral.TryDeriveSharedSecret(serverAuth[authHeader.Key], z));
        var transcript = new byte[32];
        SessionKeys.ComputeTranscriptHash(clientAuth, serverAuth, transcript);
        using var keys = SessionKeys.Derive(z, transcript);

        Assert.True(PacketReader.TryRead(serverFinishedAck, out var sfHeader, out _));
        Assert.Equal((ushort)0, sfHeader.AckId); // the client AUTH's SEQ
        Assert.Equal((ushort)(authHeader.Sequence + 1), sfHeader.Sequence);
        Assert.True(keys.VerifyServerFinished(serverFinishedAck.AsSpan(sfHeader.Length)));

        // Finished: ACK|RELIABLE, SEQ = c+1, ACK_ID = the server AUTH's SEQ, DATA = CF.
        var finished = new byte[39];
        var cf = PacketHeader.Create(PacketType.Ack, PacketFlags.Reliable, 1);
        cf.AckId = authHeader.Sequence;
        keys.ComputeClientFinished(finished.AsSpan(PacketWriter.WriteHeader(finished, cf)));
        await socket.SendToAsync(finished, server.LocalEndPoint, Token);

        var connection = await joined.Task.WaitAsync(Wait.Timeout, Token);
        Assert.Equal((1L, "Mario"), (connection.AccountId, connection.Username));

        // A sealed RELIABLE DEFAULT, as the vectors' first sealed datagram is laid out.
        using var sender = keys.CreateSender(isClient: true);
        using var receiver = keys.CreateReceiver(isClient: true);
        var choice = "{\"choice\": 0}"u8.ToArray();
        var header = PacketHeader.Create(PacketType.Default, PacketFlags.Reliable | PacketFlags.Encrypted, 2);
        var sealedDatagram = new byte[PacketWriter.HeaderLength(header.Type, header.Flags) + choice.Length + 16];
        var headerLength = PacketWriter.WriteHeader(sealedDatagram, header);
        choice.CopyTo(sealedDatagram, headerLength);
        sender.Seal(sealedDatagram, headerLength, choice.Length, 0);
        await socket.SendToAsync(sealedDatagram, server.LocalEndPoint, Token);
        Assert.Equal(choice, await received.Task.WaitAsync(Wait.Timeout, Token));

        // The server acknowledges SEQ 2 in sealed datagrams (perhaps with SEQ 1, the Finished, in the bits).
        var acknowledged = new HashSet<int>();
        while (!acknowledged.Contains(2))
        {
            var datagram = await ReceiveAsync(socket);
            Assert.True(PacketReader.TryRead(datagram, out var ackHeader, out _));
            Assert.True(ackHeader.Has(PacketFlags.Encrypted));
            Assert.True(receiver.TryOpen(datagram, ackHeader.Length, ackHeader.PacketNumber, out var length));
            foreach (var (id, bits) in Acks(ackHeader, datagram.AsSpan(ackHeader.Length, length)))
            {
                acknowledged.Add(id);
                for (var i = 0; i < 16; i++)
                {
                    if ((bits >> i & 1) != 0)
                        acknowledged.Add((ushort)(id - 1 - i));
                }
            }
        }
        Assert.Contains(1, acknowledged);
        CryptographicOperations.ZeroMemory(z);
    }

    private static List<(ushort Id, ushort Bits)> Acks(PacketHeader header, ReadOnlySpan<byte> plaintext)
    {
        var acks = new List<(ushort, ushort)>();
        if (header.Type == PacketType.Ack)
        {
            acks.Add((header.AckId, header.AckBits));
        }
        else if (header.Type == PacketType.Batch)
        {
            var batch = new BatchReader(plaintext);
            while (batch.TryReadNext(out var inner))
            {
                if (PacketReader.TryRead(inner, out var innerHeader, out _) && innerHeader.Type == PacketType.Ack)
                    acks.Add((innerHeader.AckId, innerHeader.AckBits));
            }
        }
        return acks;
    }

    private static async Task<byte[]> ReceiveAsync(Socket socket)
    {
        var buffer = new byte[2048];
        var result = await socket.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), Token).AsTask().WaitAsync(Wait.Timeout, Token);
        return buffer.AsSpan(0, result.ReceivedBytes).ToArray();
    }
}
