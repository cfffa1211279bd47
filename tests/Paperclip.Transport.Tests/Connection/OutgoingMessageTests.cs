using Paperclip.Protocol;
using Paperclip.Transport.Internal;
using Paperclip.Transport.Internal.Connection;

namespace Paperclip.Transport.Tests.Connection;

public sealed class OutgoingMessageTests
{
    private static readonly TransportSettings Required = CoreKit.Settings();
    private static readonly TransportSettings Optional = CoreKit.Settings(configure: o => o.EncryptionPolicy = EncryptionPolicy.Optional);

    private static (PacketHeader Header, byte[] Data, bool Sealed) Prepare(byte[] data, Delivery delivery, SendOptions options, TransportSettings settings)
    {
        byte[]? rented = null;
        try
        {
            var message = OutgoingMessage.Prepare(data, delivery, 0, options, settings, ref rented);
            return (message.Header, message.Data.ToArray(), message.Sealed);
        }
        finally
        {
            if (rented is not null)
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    [Fact]
    public void Small_reliable_message_is_one_sealed_DEFAULT_packet()
    {
        var (header, data, isSealed) = Prepare([1, 2, 3], Delivery.Reliable, SendOptions.None, Required);
        Assert.Equal(PacketType.Default, header.Type);
        Assert.Equal(PacketFlags.Reliable, header.Flags);
        Assert.True(isSealed);
        Assert.Equal([1, 2, 3], data);
    }

    [Fact]
    public void Message_over_the_maximum_message_size_is_refused()
    {
        Assert.Throws<SizeException>(() => Prepare(new byte[ProtocolConstants.MaxMessageSize + 1], Delivery.Reliable, SendOptions.None, Required));
        var (header, _, _) = Prepare(new byte[ProtocolConstants.MaxMessageSize], Delivery.Reliable, SendOptions.None, Required);
        Assert.Equal(224, header.FragmentCount); // 262144 / 1171 per sealed fragment
    }

    [Fact]
    public void Message_that_needs_more_than_255_fragments_is_refused()
    {
        var large = CoreKit.Settings(configure: o =>
        {
            o.MaxMessageSize = 1 << 20;
            o.EncryptionPolicy = EncryptionPolicy.Optional;
        });
        // 255 sealed fragments carry 255 × 1171 bytes; one more byte needs a 256th.
        Assert.Equal(255, Prepare(new byte[255 * 1171], Delivery.Reliable, SendOptions.None, large).Header.FragmentCount);
        Assert.Throws<SizeException>(() => Prepare(new byte[(255 * 1171) + 1], Delivery.Reliable, SendOptions.None, large));
        // Plaintext fragments have no tag and no packet number: the same bytes fit.
        Assert.Equal(250, Prepare(new byte[(255 * 1171) + 1], Delivery.Unreliable, SendOptions.Plaintext, large).Header.FragmentCount);
    }

    [Fact]
    public void Checksum_is_over_the_original_bytes_and_the_data_is_compressed()
    {
        var original = new byte[5000];
        for (var i = 0; i < original.Length; i++)
            original[i] = (byte)(i % 7);
        var (header, data, _) = Prepare(original, Delivery.Reliable, SendOptions.Checksum | SendOptions.Compress, Required);

        Assert.Equal(PacketFlags.Reliable | PacketFlags.Checksum | PacketFlags.Compressed, header.Flags);
        Assert.Equal(Checksum.Compute(original), header.Checksum);
        Assert.True(data.Length < 200, "DEFLATE shrank the repetitive message");
        var inflated = new byte[original.Length];
        Assert.True(Deflate.TryInflate(data, inflated, out var written));
        Assert.Equal(original, inflated[..written]);
    }

    [Fact]
    public void Plaintext_is_refused_under_the_required_policy_and_allowed_under_the_optional_one()
    {
        Assert.Throws<ArgumentException>(() => Prepare([1], Delivery.Reliable, SendOptions.Plaintext, Required));
        var (_, _, isSealed) = Prepare([1], Delivery.Reliable, SendOptions.Plaintext, Optional);
        Assert.False(isSealed);
    }

    [Fact]
    public void Unknown_options_and_deliveries_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Prepare([1], Delivery.Reliable, (SendOptions)8, Required));
        Assert.Throws<ArgumentOutOfRangeException>(() => Prepare([1], (Delivery)99, SendOptions.None, Required));
    }

    [Fact]
    public void Channel_deliveries_take_a_channel_of_0_to_63_and_are_always_sealed()
    {
        byte[]? rented = null;
        var message = OutgoingMessage.Prepare([1], Delivery.ReliableSequenced, 63, SendOptions.None, Required, ref rented);
        Assert.Equal(PacketType.Channel, message.Header.Type);
        Assert.Equal(63, message.Header.Channel);
        Assert.True(message.Header.Sequenced);
        Assert.Equal(PacketFlags.Reliable, message.Header.Flags);
        Assert.Throws<ArgumentOutOfRangeException>(() => OutgoingMessage.Prepare([1], Delivery.ReliableOrdered, 64, SendOptions.None, Required, ref rented));
        Assert.Throws<ArgumentOutOfRangeException>(() => OutgoingMessage.Prepare([1], Delivery.UnreliableSequenced, -1, SendOptions.None, Required, ref rented));
        Assert.Throws<ArgumentOutOfRangeException>(() => OutgoingMessage.Prepare([1], Delivery.Reliable, 3, SendOptions.None, Required, ref rented));
        Assert.Throws<ArgumentException>(() => OutgoingMessage.Prepare([1], Delivery.ReliableOrdered, 0, SendOptions.Plaintext, Optional, ref rented));
        var unreliable = OutgoingMessage.Prepare([1], Delivery.UnreliableSequenced, 5, SendOptions.None, Required, ref rented);
        Assert.Equal(PacketFlags.None, unreliable.Header.Flags);
        Assert.True(unreliable.Header.Sequenced);
    }

    [Theory]
    // Sealed: 1200 − 3 (TF, SEQ) − 8 (PN) − 16 (tag) = 1173 bytes fit one datagram; FRAG fragments carry 1171.
    [InlineData(1173, SendOptions.None, 0)]
    [InlineData(1174, SendOptions.None, 2)]
    [InlineData(1169, SendOptions.Checksum, 0)]
    [InlineData(1170, SendOptions.Checksum, 2)]
    [InlineData(2342, SendOptions.None, 2)]
    [InlineData(2343, SendOptions.None, 3)]
    // Plaintext: 1197 fit; FRAG fragments carry 1195.
    [InlineData(1197, SendOptions.Plaintext, 0)]
    [InlineData(1198, SendOptions.Plaintext, 2)]
    [InlineData(2391, SendOptions.Plaintext, 3)]
    public void Message_just_over_one_datagram_is_cut_into_fragments(int size, SendOptions options, int fragments)
    {
        var (header, _, _) = Prepare(new byte[size], Delivery.Reliable, options, Optional);
        Assert.Equal(fragments > 0, (header.Flags & PacketFlags.Frag) != 0);
        Assert.Equal(fragments, header.FragmentCount);
    }
}
