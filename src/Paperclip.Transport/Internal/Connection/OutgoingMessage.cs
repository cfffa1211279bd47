using System.Buffers;
using Paperclip.Protocol;

namespace Paperclip.Transport.Internal.Connection;

/// <summary>
/// An application message made ready to queue (protocol §3.2): its flags from the delivery and
/// the send options, its CRC over the original bytes, compressed when asked, and whether and
/// into how many fragments it is cut. Prepared on the sender's thread, so that a message that
/// cannot be sent throws there and the I/O loop only frames.
/// </summary>
internal readonly ref struct OutgoingMessage
{
    public OutgoingMessage(PacketHeader header, ReadOnlySpan<byte> data, bool isSealed)
    {
        Header = header;
        Data = data;
        Sealed = isSealed;
    }

    /// <summary>Type DEFAULT or CHANNEL (with its channel and SEQUENCED), the flags (RELIABLE, CHECKSUM, COMPRESSED, FRAG), the CRC and the fragment count; no SEQ or CSEQ yet.</summary>
    public PacketHeader Header { get; }

    /// <summary>The bytes to send (compressed when COMPRESSED).</summary>
    public ReadOnlySpan<byte> Data { get; }

    public bool Sealed { get; }

    /// <summary>
    /// Prepares <paramref name="data"/>. A compressed copy lives in <paramref name="rented"/>, which
    /// the caller returns to <see cref="ArrayPool{T}.Shared"/> once the message is queued.
    /// </summary>
    /// <exception cref="SizeException">Larger than the maximum message size, or more than 255 fragments.</exception>
    /// <exception cref="ArgumentException">Unknown options, plaintext asked for under the required policy or on a channel.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An unknown delivery, or a channel outside 0–63 (0 only without a channel delivery).</exception>
    public static OutgoingMessage Prepare(ReadOnlySpan<byte> data, Delivery delivery, int channel, SendOptions options, TransportSettings settings, ref byte[]? rented)
    {
        if ((options & ~(SendOptions.Checksum | SendOptions.Compress | SendOptions.Plaintext)) != 0)
            throw new ArgumentException("Unknown send option.", nameof(options));
        if (!Enum.IsDefined(delivery))
            throw new ArgumentOutOfRangeException(nameof(delivery));
        var onChannel = MessageInfo.IsChannelDelivery(delivery);
        if (onChannel ? channel is < 0 or >= ProtocolConstants.ChannelCount : channel != 0)
            throw new ArgumentOutOfRangeException(nameof(channel), channel, onChannel ? "A channel is 0–63." : "Unreliable and Reliable messages travel on no channel: pass 0.");
        var plaintext = (options & SendOptions.Plaintext) != 0;
        if (plaintext && settings.EncryptionPolicy == EncryptionPolicy.Required)
            throw new ArgumentException("Plaintext messages need EncryptionPolicy.Optional.", nameof(options));
        if (plaintext && onChannel)
            throw new ArgumentException("Channel messages are always sealed (protocol §2.2).", nameof(options));
        if (data.Length > settings.MaxMessageSize)
            throw new SizeException($"{data.Length} bytes exceed the maximum message size of {settings.MaxMessageSize}.");

        var flags = delivery is Delivery.Reliable or Delivery.ReliableOrdered or Delivery.ReliableSequenced ? PacketFlags.Reliable : PacketFlags.None;
        var header = PacketHeader.Create(onChannel ? PacketType.Channel : PacketType.Default, flags, 0);
        header.Channel = (byte)channel;
        header.Sequenced = delivery is Delivery.ReliableSequenced or Delivery.UnreliableSequenced;
        if ((options & SendOptions.Checksum) != 0)
        {
            flags |= PacketFlags.Checksum;
            header.Checksum = Checksum.Compute(data);
        }
        if ((options & SendOptions.Compress) != 0)
        {
            flags |= PacketFlags.Compressed;
            rented = ArrayPool<byte>.Shared.Rent(Deflate.MaxCompressedLength(data.Length));
            data = rented.AsSpan(0, Deflate.Compress(data, rented));
        }
        var isSealed = !plaintext;
        var sealedForm = isSealed ? PacketFlags.Encrypted : PacketFlags.None;
        var tag = isSealed ? ProtocolConstants.TagSize : 0;
        if (PacketWriter.HeaderLength(PacketType.Default, flags | sealedForm) + data.Length + tag > settings.MaxDatagramSize)
        {
            flags |= PacketFlags.Frag;
            header.Flags = flags;
            var count = Fragmenter.FragmentCount(data.Length, ChunkCapacity(settings.MaxDatagramSize, header, isSealed));
            if (count > ProtocolConstants.MaxFragments)
                throw new SizeException($"{data.Length} bytes need {count} fragments; at most {ProtocolConstants.MaxFragments} are allowed.");
            header.FragmentCount = (byte)count;
        }
        header.Flags = flags;
        return new OutgoingMessage(header, data, isSealed);
    }

    /// <summary>DATA bytes per fragment of a message with this header.</summary>
    public static int ChunkCapacity(int maxDatagramSize, in PacketHeader header, bool isSealed) =>
        Fragmenter.ChunkCapacity(maxDatagramSize, PacketWriter.HeaderLength(header.Type, header.Flags | (isSealed ? PacketFlags.Encrypted : PacketFlags.None)), isSealed);
}
