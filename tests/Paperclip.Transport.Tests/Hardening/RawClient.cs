using System.Net;
using System.Net.Sockets;
using Paperclip.Protocol;
using Paperclip.Protocol.Crypto;

namespace Paperclip.Transport.Tests.Hardening;

/// <summary>
/// A client made of bare protocol pieces over its own socket: it does the handshake by the
/// spec, then seals and sends whatever a test (an attacker) wants, with any header fields.
/// </summary>
internal sealed class RawClient : IDisposable
{
    private readonly IPEndPoint _server;
    private PacketProtection? _sender;
    private PacketProtection? _receiver;

    public RawClient(IPEndPoint server, TestAccount account)
    {
        _server = server;
        Account = account;
        Socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        Socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Ephemeral = EphemeralKey.Generate();
    }

    public Socket Socket { get; }

    public TestAccount Account { get; }

    public EphemeralKey Ephemeral { get; }

    public IPEndPoint LocalEndPoint => (IPEndPoint)Socket.LocalEndPoint!;

    public ulong NextPacketNumber { get; set; }

    public ushort NextSequence { get; set; } = 2;

    /// <summary>The protocol version its AUTH asks for (1 unless set; its key is P-256 either way).</summary>
    public byte Version { get; init; } = ProtocolConstants.Version1;

    /// <summary>A client AUTH datagram by the spec (§5.1): COOKIE_LEN, COOKIE, zero padding to <paramref name="size"/>.</summary>
    public static byte[] BuildAuth(TestAccount account, ReadOnlySpan<byte> ephemeralKey, ushort sequence, ReadOnlySpan<byte> cookie = default, int size = ProtocolConstants.MinClientAuthSize, byte[]? signature = null, byte version = ProtocolConstants.Version1)
    {
        signature ??= AuthSignature.SignClient(account.Key, ephemeralKey);
        var headerLength = PacketWriter.AuthHeaderLength(account.Certificate.Length, ephemeralKey.Length, signature.Length);
        var auth = new byte[Math.Max(size, headerLength + 1 + cookie.Length)];
        PacketWriter.WriteAuthHeader(auth, PacketFlags.None, sequence, version, account.Certificate, ephemeralKey, signature);
        auth[headerLength] = (byte)cookie.Length;
        cookie.CopyTo(auth.AsSpan(headerLength + 1));
        return auth;
    }

    public byte[] Auth(ReadOnlySpan<byte> cookie = default) => BuildAuth(Account, Ephemeral.PublicKey, 0, cookie, version: Version);

    public void Send(ReadOnlySpan<byte> datagram) => Socket.SendTo(datagram, SocketFlags.None, _server);

    /// <summary>The next datagram from anyone, or null after <paramref name="timeout"/>.</summary>
    public byte[]? Receive(TimeSpan timeout)
    {
        var buffer = new byte[65536];
        Socket.ReceiveTimeout = Math.Max(1, (int)timeout.TotalMilliseconds);
        try
        {
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            var length = Socket.ReceiveFrom(buffer, ref from);
            return buffer.AsSpan(0, length).ToArray();
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
        {
            return null;
        }
    }

    /// <summary>Completes a handshake (following one RETRY); returns false when the server did not answer as it should.</summary>
    public bool Handshake(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Wait.Timeout);
        var clientAuth = Auth();
        Send(clientAuth);
        byte[]? serverAuth = null, serverFinished = null;
        var lastSent = DateTime.UtcNow;
        while (serverAuth is null || serverFinished is null)
        {
            if (DateTime.UtcNow > deadline)
                return false;
            var datagram = Receive(TimeSpan.FromMilliseconds(500));
            if (datagram is null)
            {
                if (DateTime.UtcNow - lastSent > TimeSpan.FromSeconds(1))
                {
                    Send(clientAuth); // lost on a loaded machine: the identical AUTH again
                    lastSent = DateTime.UtcNow;
                }
                continue;
            }
            if (!PacketReader.TryRead(datagram, out var header, out _))
                continue;
            if (header.Type == PacketType.Error && header.Error == ErrorCode.Of(ConnectionError.Retry))
            {
                clientAuth = BuildAuth(Account, Ephemeral.PublicKey, 1, datagram.AsSpan(header.Length), version: Version);
                Send(clientAuth);
            }
            else if (header.Type == PacketType.Error)
            {
                return false;
            }
            else if (header.Type == PacketType.Auth)
            {
                serverAuth = datagram;
            }
            else if (header.Type == PacketType.Ack)
            {
                serverFinished = datagram;
            }
        }
        PacketReader.TryRead(serverAuth, out var authHeader, out _);
        Span<byte> z = stackalloc byte[32];
        if (!Ephemeral.TryDeriveSharedSecret(serverAuth[authHeader.Key], z))
            return false;
        Span<byte> transcript = stackalloc byte[32];
        SessionKeys.ComputeTranscriptHash(clientAuth, serverAuth, transcript);
        using var keys = SessionKeys.Derive(z, transcript);
        PacketReader.TryRead(serverFinished, out var sfHeader, out _);
        if (!keys.VerifyServerFinished(serverFinished.AsSpan(sfHeader.Length)))
            return false;
        PacketReader.TryRead(clientAuth, out var ourHeader, out _);
        var finished = new byte[PacketWriter.HeaderLength(PacketType.Ack, PacketFlags.Reliable) + SessionKeys.FinishedSize];
        var cf = PacketHeader.Create(PacketType.Ack, PacketFlags.Reliable, (ushort)(ourHeader.Sequence + 1));
        cf.AckId = authHeader.Sequence;
        keys.ComputeClientFinished(finished.AsSpan(PacketWriter.WriteHeader(finished, cf)));
        ClientFinished = finished;
        _sender = keys.CreateSender(isClient: true);
        _receiver = keys.CreateReceiver(isClient: true);
        NextSequence = (ushort)(ourHeader.Sequence + 2);
        Send(finished);
        return true;
    }

    /// <summary>Our Finished ACK as sent.</summary>
    public byte[]? ClientFinished { get; private set; }

    /// <summary>A sealed datagram with <paramref name="header"/> (ENCRYPTED and the next PN set here unless <paramref name="packetNumber"/> is given).</summary>
    public byte[] Seal(PacketHeader header, ReadOnlySpan<byte> data, ulong? packetNumber = null)
    {
        header.Flags |= PacketFlags.Encrypted;
        header.PacketNumber = packetNumber ?? NextPacketNumber++;
        var datagram = new byte[PacketWriter.HeaderLength(header.Type, header.Flags) + data.Length + ProtocolConstants.TagSize];
        var headerLength = PacketWriter.WriteHeader(datagram, header);
        data.CopyTo(datagram.AsSpan(headerLength));
        _sender!.Seal(datagram, headerLength, data.Length, header.PacketNumber);
        return datagram;
    }

    /// <summary>A sealed DEFAULT message with the next sequence id.</summary>
    public byte[] SealMessage(ReadOnlySpan<byte> data, PacketFlags flags = PacketFlags.None) =>
        Seal(PacketHeader.Create(PacketType.Default, flags, NextSequence++), data);

    /// <summary>Opens a datagram from the server; null when it does not open.</summary>
    public (PacketHeader Header, byte[] Data)? Open(byte[] datagram)
    {
        if (!PacketReader.TryRead(datagram, out var header, out _) || !header.Has(PacketFlags.Encrypted))
            return null;
        if (!_receiver!.TryOpen(datagram, header.Length, header.PacketNumber, out var length))
            return null;
        return (header, datagram.AsSpan(header.Length, length).ToArray());
    }

    public void Dispose()
    {
        Socket.Dispose();
        Ephemeral.Dispose();
        _sender?.Dispose();
        _receiver?.Dispose();
    }
}
