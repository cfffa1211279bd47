using Paperclip.Transport.Internal.Connection;

namespace Paperclip.Transport.Tests.Connection;

/// <summary>The in-flight set by sequence id: lookups inside and outside its span, growth, both ends, the wrap at 65535.</summary>
public sealed class InFlightMessagesTests
{
    private readonly InFlightMessages _set = new();

    [Fact]
    public void Ids_outside_the_span_or_never_set_find_nothing()
    {
        var message = new SentMessage();
        _set.Set(10, message);
        _set.Set(12, new SentMessage());

        Assert.True(_set.TryGet(10, out var found));
        Assert.Same(message, found);
        Assert.False(_set.Contains(11)); // inside the span, not in flight
        // 10 + 64 shares 10's slot in the initial ring: the range check keeps it apart.
        Assert.False(_set.Contains(10 + 64));
        Assert.False(_set.Contains(9));
        Assert.Equal(2, _set.Count);
    }

    [Fact]
    public void The_ring_grows_to_span_thousands_in_flight_across_the_wrap()
    {
        var messages = new Dictionary<ushort, SentMessage>();
        for (var i = 0; i < 5000; i++)
        {
            var sequence = (ushort)(65_000 + i); // wraps past 65535
            messages[sequence] = new SentMessage();
            _set.Set(sequence, messages[sequence]);
        }

        Assert.Equal(5000, _set.Count);
        Assert.Equal(65_000, _set.Oldest);
        foreach (var (sequence, message) in messages)
        {
            Assert.True(_set.TryGet(sequence, out var found));
            Assert.Same(message, found);
        }
        var inOrder = new List<SentMessage>();
        foreach (var message in _set)
            inOrder.Add(message);
        Assert.Equal(messages.OrderBy(m => (ushort)(m.Key - 65_000)).Select(m => m.Value), inOrder);
    }

    [Fact]
    public void Removing_the_ends_moves_them_to_the_next_message_in_flight()
    {
        foreach (var sequence in new ushort[] { 100, 101, 105, 110 })
            _set.Set(sequence, new SentMessage());

        Assert.True(_set.Remove(100));
        Assert.True(_set.Remove(101));
        Assert.Equal(105, _set.Oldest);
        Assert.True(_set.Remove(110));
        Assert.False(_set.Contains(110));
        Assert.False(_set.Remove(110));
        Assert.Equal(1, _set.Count);

        // The span is 105 alone now: 105 + 64 is outside it again.
        _set.Set(105 + 64, new SentMessage());
        Assert.Equal(2, _set.Count);
        Assert.True(_set.Contains(105));
        Assert.True(_set.Remove(105));
        Assert.Equal(105 + 64, _set.Oldest);
    }

    [Fact]
    public void An_id_before_the_oldest_extends_the_span_backwards_and_setting_an_id_again_replaces_it()
    {
        _set.Set(500, new SentMessage());
        var earlier = new SentMessage();
        _set.Set(400, earlier);
        var replacement = new SentMessage();
        _set.Set(500, replacement);

        Assert.Equal(400, _set.Oldest);
        Assert.Equal(2, _set.Count);
        Assert.True(_set.TryGet(400, out var found) && ReferenceEquals(found, earlier));
        Assert.True(_set.TryGet(500, out found) && ReferenceEquals(found, replacement));
    }

    [Fact]
    public void Clear_empties_it()
    {
        for (ushort i = 0; i < 300; i++)
            _set.Set(i, new SentMessage());
        _set.Clear();

        Assert.Equal(0, _set.Count);
        Assert.False(_set.Contains(5));
        Assert.Empty(EnumerateAll());
    }

    private List<SentMessage> EnumerateAll()
    {
        var all = new List<SentMessage>();
        foreach (var message in _set)
            all.Add(message);
        return all;
    }
}
