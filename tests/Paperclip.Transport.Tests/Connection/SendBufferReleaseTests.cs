using Microsoft.Extensions.Time.Testing;
using Paperclip.Protocol;

namespace Paperclip.Transport.Tests.Connection;

/// <summary>
/// The send buffer's owner (a session, whose counters application threads share) hears of
/// released messages once per ACK or flush, not once per message.
/// </summary>
public sealed class SendBufferReleaseTests
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UnixEpoch);

    [Fact]
    public void One_ACK_for_many_reliable_messages_releases_them_in_one_report()
    {
        var (client, server, toServer, toClient) = Pair();
        for (var i = 0; i < 5; i++)
            client.SendMessage(new byte[100 + i], Delivery.Reliable);
        client.Flush(10, _clock.GetTimestamp());
        Deliver(toServer, server, 11);
        server.Flush(11, _clock.GetTimestamp());
        Assert.Empty(client.Releases);

        Deliver(toClient, client, 12);

        Assert.Equal([(100L + 101 + 102 + 103 + 104, 5)], client.Releases);
    }

    [Fact]
    public void Unreliable_messages_sent_in_one_turn_are_released_at_its_flush()
    {
        var (client, _, _, _) = Pair();
        for (var i = 0; i < 3; i++)
            client.SendMessage(new byte[50], Delivery.Unreliable);
        Assert.Empty(client.Releases);

        client.Flush(10, _clock.GetTimestamp());

        Assert.Equal([(150L, 3)], client.Releases);
    }

    private (TestCore Client, TestCore Server, RecordingSink ToServer, RecordingSink ToClient) Pair()
    {
        var settings = CoreKit.Settings(_clock);
        var toServer = new RecordingSink();
        var toClient = new RecordingSink();
        var client = new TestCore(settings, toServer, 0);
        var server = new TestCore(settings, toClient, 0);
        var keys = CoreKit.Keys();
        client.Activate(keys, isClient: true, ProtocolConstants.Version2, 0);
        server.Activate(keys, isClient: false, ProtocolConstants.Version2, 0);
        return (client, server, toServer, toClient);
    }

    private static void Deliver(RecordingSink link, TestCore to, long now)
    {
        foreach (var datagram in link.Datagrams)
            to.Receive(datagram, CoreKit.Header(datagram), now);
        link.Datagrams.Clear();
    }
}
