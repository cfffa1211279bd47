using System.Net;
using Paperclip.Protocol;
using Paperclip.Protocol.Crypto;
using Paperclip.Transport.Internal.Io;

namespace Paperclip.Transport.Internal.Connection;

/// <summary>
/// Turns queued packets into datagrams (protocol §2.1, §6.3): consecutive packets of the same
/// framing share a BATCH up to the datagram size; a sealed datagram gets the next packet
/// number and is sealed in place. Each header is written once, in the form its datagram needs.
/// </summary>
internal sealed class Framer(int maxDatagramSize) : IDisposable
{
    /// <summary>The three DISCONNECTs that end a session take packet numbers too, below the limit.</summary>
    public const int DisconnectRepeats = 3;

    [ThreadStatic]
    private static byte[]? t_scratch;

    private PacketProtection? _sender;

    /// <summary>True once keys are installed: packets can be sealed.</summary>
    public bool CanSeal => _sender is not null;

    public ulong NextPacketNumber { get; private set; }

    /// <summary>Largest DISCONNECT datagram: sealed ERROR header and tag.</summary>
    public static int DisconnectSize { get; } = PacketWriter.HeaderLength(PacketType.Error, PacketFlags.Encrypted) + ProtocolConstants.TagSize;

    public void Activate(PacketProtection sender) => _sender = sender;

    /// <summary>Sends every queued packet. False, sending nothing, when this key's packet numbers are spent (the session must end).</summary>
    public bool Flush(OutgoingPackets queue, IDatagramSink sink, SocketAddress remote, ConnectionStatistics statistics)
    {
        if (NextPacketNumber + (ulong)queue.Count + DisconnectRepeats >= ProtocolConstants.PacketNumberLimit)
            return false;
        var scratch = t_scratch ??= GC.AllocateArray<byte>(65_536, pinned: true);
        for (var i = 0; i < queue.Count;)
        {
            ref readonly var first = ref queue[i];
            var end = i + 1;
            if (!first.IsAlone)
            {
                var size = BatchOverhead(first.IsSealed) + Batch.EntryOverhead + first.InnerLength;
                while (end < queue.Count && queue[end].Framing == first.Framing && size + Batch.EntryOverhead + queue[end].InnerLength <= maxDatagramSize)
                    size += Batch.EntryOverhead + queue[end++].InnerLength;
            }
            var length = end - i == 1 ? FrameSingle(queue, first, scratch) : FrameBatch(queue, i, end, first.IsSealed, scratch);
            statistics.DatagramsSent++;
            statistics.BytesSent += length;
            sink.Send(scratch.AsSpan(0, length), remote);
            i = end;
        }
        return true;
    }

    /// <summary>Writes an ERROR DISCONNECT / <paramref name="reason"/> datagram, sealed when keys exist.</summary>
    public int WriteDisconnect(Span<byte> datagram, DisconnectReason reason, ushort sequence) =>
        WriteDisconnect(datagram, reason, sequence, _sender, _sender is null ? 0 : NextPacketNumber++);

    /// <summary>Writes an ERROR DISCONNECT / <paramref name="reason"/> datagram, sealed when a sender is given.</summary>
    public static int WriteDisconnect(Span<byte> datagram, DisconnectReason reason, ushort sequence, PacketProtection? sender, ulong packetNumber)
    {
        var header = PacketHeader.Create(PacketType.Error, sender is null ? PacketFlags.None : PacketFlags.Encrypted, sequence);
        header.Error = ErrorCode.Of(reason);
        header.PacketNumber = packetNumber;
        var length = PacketWriter.WriteHeader(datagram, header);
        return sender is null ? length : sender.Seal(datagram, length, 0, packetNumber);
    }

    public void Dispose() => _sender?.Dispose();

    private static int BatchOverhead(bool sealedBatch) =>
        PacketWriter.HeaderLength(PacketType.Batch, sealedBatch ? PacketFlags.Encrypted : PacketFlags.None) + (sealedBatch ? ProtocolConstants.TagSize : 0);

    private int FrameSingle(OutgoingPackets queue, in OutgoingPackets.Entry entry, byte[] scratch)
    {
        var header = entry.Header;
        if (entry.IsSealed)
        {
            header.Flags |= PacketFlags.Encrypted;
            header.PacketNumber = NextPacketNumber++;
        }
        var headerLength = PacketWriter.WriteHeader(scratch, header);
        var data = queue.Data(entry);
        data.CopyTo(scratch.AsSpan(headerLength));
        return entry.IsSealed ? _sender!.Seal(scratch, headerLength, data.Length, header.PacketNumber) : headerLength + data.Length;
    }

    private int FrameBatch(OutgoingPackets queue, int start, int end, bool seal, byte[] scratch)
    {
        var header = PacketHeader.Create(PacketType.Batch, seal ? PacketFlags.Encrypted : PacketFlags.None, 0);
        if (seal)
            header.PacketNumber = NextPacketNumber++;
        var headerLength = PacketWriter.WriteHeader(scratch, header);
        var position = headerLength;
        for (var i = start; i < end; i++)
        {
            ref readonly var entry = ref queue[i];
            Batch.WriteEntryLength(scratch.AsSpan(position), entry.InnerLength);
            position += Batch.EntryOverhead;
            position += PacketWriter.WriteHeader(scratch.AsSpan(position), entry.Header);
            var data = queue.Data(entry);
            data.CopyTo(scratch.AsSpan(position));
            position += data.Length;
        }
        return seal ? _sender!.Seal(scratch, headerLength, position - headerLength, header.PacketNumber) : position;
    }
}
