using System.Net;
using System.Net.Sockets;
using Paperclip.Transport.Internal;

namespace Paperclip.Transport.Tests;

/// <summary>
/// The server's sessions by address (<see cref="AddressTable{T}"/>): every operation checked
/// against a dictionary over many random steps, with a table small enough that probes collide,
/// wrap around its end and are shifted back on removal.
/// </summary>
public sealed class AddressTableTests
{
    private sealed record Value(int Id);

    private static SocketAddress Address(int host, int port, bool v6 = false) =>
        (v6 ? new IPEndPoint(IPAddress.Parse($"2001:db8::{host:x}"), port) : new IPEndPoint(new IPAddress([10, 0, (byte)(host >> 8), (byte)host]), port)).Serialize();

    [Fact]
    public void Agrees_with_a_dictionary_over_random_sets_removes_and_lookups()
    {
        var random = new Random(12345);
        var table = new AddressTable<Value>();
        var model = new Dictionary<string, (SocketAddress Address, Value Value)>();
        for (var step = 0; step < 50_000; step++)
        {
            // 64 addresses in all (v4 and v6, ports apart), so the table fills, grows and empties again.
            var n = random.Next(64);
            var address = Address(n % 16, 5000 + (n / 32), v6: n % 2 == 1);
            var name = address.ToString();
            switch (random.Next(3))
            {
                case 0:
                    var value = new Value(step);
                    table.Set(address, value);
                    model[name] = (address, value);
                    break;
                case 1:
                    // Half the time with the value it maps to, half with another: only the first removes.
                    var mapped = model.TryGetValue(name, out var current) && random.Next(2) == 0;
                    var expected = mapped;
                    Assert.Equal(expected, table.Remove(address, mapped ? current.Value : new Value(-1)));
                    if (mapped)
                        model.Remove(name);
                    break;
                default:
                    Assert.Equal(model.TryGetValue(name, out var entry), table.TryGetValue(address, out var found));
                    Assert.Same(entry.Value, found);
                    break;
            }
            Assert.Equal(model.Count, table.Count);
        }
        foreach (var (address, value) in model.Values)
        {
            Assert.True(table.TryGetValue(address, out var found));
            Assert.Same(value, found);
        }
        Assert.Equal(model.Values.Select(v => v.Value.Id).Order(), table.Values().Select(v => v.Id).Order());
    }

    [Fact]
    public void Addresses_apart_only_in_port_or_family_are_apart()
    {
        var table = new AddressTable<Value>();
        var v4 = new Value(1);
        var otherPort = new Value(2);
        var mapped = new Value(3);
        table.Set(new IPEndPoint(IPAddress.Loopback, 7000).Serialize(), v4);
        table.Set(new IPEndPoint(IPAddress.Loopback, 7001).Serialize(), otherPort);
        table.Set(new IPEndPoint(IPAddress.Loopback.MapToIPv6(), 7000).Serialize(), mapped);

        Assert.True(table.TryGetValue(new IPEndPoint(IPAddress.Loopback, 7000).Serialize(), out var found));
        Assert.Same(v4, found);
        Assert.True(table.TryGetValue(new IPEndPoint(IPAddress.Loopback.MapToIPv6(), 7000).Serialize(), out found));
        Assert.Same(mapped, found);
        Assert.False(table.TryGetValue(new IPEndPoint(IPAddress.Loopback, 7002).Serialize(), out _));
        Assert.Equal(3, table.Count);
    }

    [Fact]
    public void Set_replaces_and_the_replaced_value_no_longer_removes()
    {
        var table = new AddressTable<Value>();
        var address = new SocketAddress(AddressFamily.InterNetwork);
        var first = new Value(1);
        var second = new Value(2);
        table.Set(address, first);
        table.Set(address, second);

        Assert.Equal(1, table.Count);
        Assert.False(table.Remove(address, first));
        Assert.True(table.TryGetValue(address, out var found));
        Assert.Same(second, found);
        Assert.True(table.Remove(address, second));
        Assert.False(table.TryGetValue(address, out _));
        Assert.Equal(0, table.Count);
    }
}
