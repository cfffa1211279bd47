namespace Paperclip.Transport.Internal.Connection;

/// <summary>The session's next sequence id: one 16-bit space shared by every packet type (protocol §3.1).</summary>
internal sealed class SequenceCounter
{
    public ushort Next { get; set; }

    public ushort Take() => Next++;
}
