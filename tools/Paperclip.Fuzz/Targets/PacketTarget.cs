using Paperclip.Protocol;

namespace Paperclip.Fuzz.Targets;

/// <summary>
/// <c>packet</c>: one datagram through <see cref="PacketReader.TryRead(ReadOnlySpan{byte}, int, out PacketHeader, out PacketError)"/> as
/// sessions of both versions read it, every type (CHANNEL in version 2). Promised:
/// false (with the PACKET minor to answer), or a header whose fields all lie inside the datagram.
/// </summary>
public static class PacketTarget
{
    public static void Run(ReadOnlySpan<byte> datagram)
    {
        if (PacketReader.TryRead(datagram, ProtocolConstants.Version1, out var header, out _))
        {
            if (header.Type == PacketType.Channel)
                throw new FindingException("A version-1 session accepted a CHANNEL packet.");
            Check(datagram, header);
        }
        if (PacketReader.TryRead(datagram, ProtocolConstants.Version2, out header, out _))
            Check(datagram, header);
    }

    /// <summary>The promises of a header the reader accepted (shared with the targets that read inner packets).</summary>
    public static void Check(ReadOnlySpan<byte> datagram, in PacketHeader header)
    {
        if (header.Length < ProtocolConstants.FixedHeaderSize || header.Length > datagram.Length)
            throw new FindingException($"Header length {header.Length} outside a datagram of {datagram.Length} B.");
        if (header.TypeAndFlags != datagram[0])
            throw new FindingException("The parsed type and flags are not the TF byte.");
        if (header.Has(PacketFlags.Frag) && (header.FragmentCount == 0 || header.FragmentId >= header.FragmentCount))
            throw new FindingException($"Fragment {header.FragmentId} of {header.FragmentCount} accepted.");
        if (header.Has(PacketFlags.Encrypted) && datagram.Length - header.Length < ProtocolConstants.TagSize)
            throw new FindingException("An ENCRYPTED datagram without room for its tag accepted.");
        if (header.Type == PacketType.Channel && (header.Channel >= ProtocolConstants.ChannelCount || (!header.Sequenced && !header.Has(PacketFlags.Reliable))))
            throw new FindingException($"CHANNEL lane {header.Lane:x2} with flags {header.Flags} accepted.");
        if (header.Type == PacketType.Auth && header.Version is ProtocolConstants.Version1 or ProtocolConstants.Version2)
        {
            foreach (var range in (ReadOnlySpan<Range>)[header.Certificate, header.Key, header.Signature])
            {
                var (offset, length) = range.GetOffsetAndLength(header.Length);
                if (offset < 0 || length < 0 || offset + length > header.Length)
                    throw new FindingException("An AUTH field lies outside the header.");
            }
        }
    }
}
