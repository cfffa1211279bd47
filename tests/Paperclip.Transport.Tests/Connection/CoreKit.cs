using System.Buffers;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Paperclip.Protocol;
using Paperclip.Protocol.Crypto;
using Paperclip.Transport.Internal;
using Paperclip.Transport.Internal.Connection;
using Paperclip.Transport.Internal.Io;

namespace Paperclip.Transport.Tests.Connection;

/// <summary>What the unit tests of the session core's parts share: settings, keys, a sink that keeps datagrams, and a way to read them back.</summary>
internal static class CoreKit
{
    public static SocketAddress Remote { get; } = new IPEndPoint(IPAddress.Loopback, 40_000).Serialize();

    public static TransportSettings Settings(TimeProvider? time = null, Action<PaperclipClientOptions>? configure = null)
    {
        var options = new PaperclipClientOptions();
        if (time is not null)
            options.TimeProvider = time;
        configure?.Invoke(options);
        return new TransportSettings(options);
    }

    /// <summary>Keys as a completed handshake gives both sides: derived from one secret and transcript.</summary>
    public static SessionKeys Keys(byte seed = 7)
    {
        Span<byte> secret = stackalloc byte[32];
        Span<byte> transcript = stackalloc byte[32];
        secret.Fill(seed);
        transcript.Fill((byte)(seed + 1));
        return SessionKeys.Derive(secret, transcript);
    }

    /// <summary>Prepares and queues an application message as <see cref="Session"/> does.</summary>
    public static void SendMessage(this SessionCore core, ReadOnlySpan<byte> data, Delivery delivery, SendOptions options = SendOptions.None, int channel = 0)
    {
        byte[]? rented = null;
        try
        {
            core.Send(OutgoingMessage.Prepare(data, delivery, channel, options, core.Settings, ref rented));
        }
        finally
        {
            if (rented is not null)
                ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// The packets of one datagram as the peer sees them: opened with <paramref name="receiver"/>
    /// when sealed, a BATCH split into its inner packets. Asserts that everything parses.
    /// </summary>
    public static List<(PacketHeader Header, byte[] Data)> Packets(byte[] datagram, PacketProtection? receiver)
    {
        var copy = datagram.ToArray();
        Assert.True(PacketReader.TryRead(copy, ProtocolConstants.LatestVersion, out var header, out var error), $"the datagram parses ({error})");
        ReadOnlySpan<byte> data = copy.AsSpan(header.Length);
        if ((header.Flags & PacketFlags.Encrypted) != 0)
        {
            Assert.NotNull(receiver);
            Assert.True(receiver.TryOpen(copy, header.Length, header.PacketNumber, out var plaintextLength), "the sealed datagram opens with the peer's keys");
            data = copy.AsSpan(header.Length, plaintextLength);
        }
        var packets = new List<(PacketHeader, byte[])>();
        if (header.Type != PacketType.Batch)
        {
            packets.Add((header, data.ToArray()));
            return packets;
        }
        var batch = new BatchReader(data);
        while (batch.TryReadNext(out var inner))
        {
            Assert.True(PacketReader.TryRead(inner, ProtocolConstants.LatestVersion, out var innerHeader, out var innerError), $"an inner packet parses ({innerError})");
            packets.Add((innerHeader, inner[innerHeader.Length..].ToArray()));
        }
        Assert.False(batch.IsMalformed, "the BATCH is well formed");
        return packets;
    }

    /// <summary>Parses just the outer header (as a version-2 session reads it: CHANNEL packets too).</summary>
    public static PacketHeader Header(byte[] datagram)
    {
        Assert.True(PacketReader.TryRead(datagram, ProtocolConstants.LatestVersion, out var header, out var error), $"the datagram parses ({error})");
        return header;
    }
}

/// <summary>Keeps every datagram sent.</summary>
internal sealed class RecordingSink : IDatagramSink
{
    public List<byte[]> Datagrams { get; } = [];

    public void Send(ReadOnlySpan<byte> datagram, SocketAddress to) => Datagrams.Add(datagram.ToArray());
}

/// <summary>A concrete session core whose hooks record what the core reports.</summary>
internal sealed class TestCore(TransportSettings settings, IDatagramSink sink, long now, ReassemblyBudget? heldBudget = null)
    : SessionCore(settings, sink, CoreKit.Remote, now, budget: null, heldBudget, NullLogger.Instance)
{
    public List<(byte[] Data, PacketFlags Flags)> Messages { get; } = [];

    /// <summary>How each message in <see cref="Messages"/> travelled.</summary>
    public List<MessageInfo> Infos { get; } = [];

    public List<(ErrorCode Code, string Text)> Errors { get; } = [];

    public List<ushort> AcknowledgedSequences { get; } = [];

    public DisconnectReason? ClosedReason { get; private set; }

    public string? ClosedText { get; private set; }

    public int OutputPendingCalls { get; private set; }

    /// <summary>Each report of application messages leaving the send buffer: bytes and messages.</summary>
    public List<(long Bytes, int Messages)> Releases { get; } = [];

    /// <summary>Called with each message as it is delivered (the pair test checks content there).</summary>
    public Action<byte[], MessageInfo>? OnDelivered { get; set; }

    public override bool OnPlaintextHandshake(ReadOnlySpan<byte> datagram, in PacketHeader header) => false;

    protected override void OnOutputPending() => OutputPendingCalls++;

    protected override void OnSendBufferReleased(long bytes, int messages) => Releases.Add((bytes, messages));

    protected override void OnMessage(ReadOnlySpan<byte> data, in MessageInfo info)
    {
        var copy = data.ToArray();
        if (OnDelivered is { } delivered)
        {
            delivered(copy, info);
            return;
        }
        Messages.Add((copy, info.Flags));
        Infos.Add(info);
    }

    protected override void OnError(ErrorCode code, string text) => Errors.Add((code, text));

    protected override void OnClosed(DisconnectReason reason, string? text)
    {
        ClosedReason = reason;
        ClosedText = text;
    }

    protected override void OnAcknowledged(ushort sequence) => AcknowledgedSequences.Add(sequence);
}
