using Paperclip.Protocol;

namespace Paperclip.Fuzz.Targets;

/// <summary>
/// <c>packet</c>: one datagram through <see cref="PacketReader.TryRead"/>, every type. Promised:
/// false (with the PACKET minor to answer), or a header whose fields all lie inside the datagram.
/// </summary>
public static class PacketTarget
{
    public static void Run(ReadOnlySpan<byte> datagram)
    {
        if (PacketReader.TryRead(datagram, out var header, out _))
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
        if (header.Type == PacketType.Auth && header.Version == ProtocolConstants.Version)
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
