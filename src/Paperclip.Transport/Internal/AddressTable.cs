using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace Paperclip.Transport.Internal;

/// <summary>
/// Values by remote address, for the lookup every received datagram makes (a server's sessions):
/// open addressing with linear probing over one array whose entries hold the address bytes
/// themselves, so a lookup reads that array and nothing else. A
/// <c>ConcurrentDictionary&lt;SocketAddress, T&gt;</c> read its tables, a bucket, a node, the key
/// object and the key's buffer: with a thousand servers in a process, each a cache miss per
/// datagram. One thread only (the endpoint's loop).
/// </summary>
internal sealed class AddressTable<T>
    where T : class
{
    // At most half full: a miss ends at an empty entry after a probe or two.
    private const int InitialCapacity = 8;

    private Entry[] _entries = new Entry[InitialCapacity];

    public int Count { get; private set; }

    public bool TryGetValue(SocketAddress address, [MaybeNullWhen(false)] out T value)
    {
        value = _entries[IndexOf(new AddressKey(address))].Value;
        return value is not null;
    }

    /// <summary>Maps <paramref name="address"/> to <paramref name="value"/>, replacing what it mapped to.</summary>
    public void Set(SocketAddress address, T value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if ((Count + 1) * 2 > _entries.Length)
            Grow();
        var key = new AddressKey(address);
        ref var entry = ref _entries[IndexOf(key)];
        if (entry.Value is null)
        {
            entry = new Entry(key, value);
            Count++;
        }
        else
        {
            entry.Value = value;
        }
    }

    /// <summary>Removes <paramref name="address"/> if it maps to <paramref name="value"/> (not to a value that replaced it).</summary>
    public bool Remove(SocketAddress address, T value)
    {
        var hole = IndexOf(new AddressKey(address));
        if (!ReferenceEquals(_entries[hole].Value, value))
            return false;
        // Backward shift: each entry after the hole that may sit in it (its home is not between the
        // hole and itself) moves in, so every probe still reaches what it looks for without tombstones.
        var mask = _entries.Length - 1;
        for (var j = (hole + 1) & mask; _entries[j].Value is not null; j = (j + 1) & mask)
        {
            var home = _entries[j].Key.Hash & mask;
            if (((j - home) & mask) >= ((j - hole) & mask))
            {
                _entries[hole] = _entries[j];
                hole = j;
            }
        }
        _entries[hole] = default;
        Count--;
        return true;
    }

    // The entry holding key, or the empty one where its probe ends (the table is never full).
    private int IndexOf(in AddressKey key)
    {
        var mask = _entries.Length - 1;
        var i = key.Hash & mask;
        while (_entries[i].Value is not null && !_entries[i].Key.Equals(key))
            i = (i + 1) & mask;
        return i;
    }

    /// <summary>The values, in no order (a copy: the table may change while the caller walks it).</summary>
    public T[] Values()
    {
        var values = new T[Count];
        var n = 0;
        foreach (var entry in _entries)
        {
            if (entry.Value is not null)
                values[n++] = entry.Value;
        }
        return values;
    }

    private void Grow()
    {
        var old = _entries;
        _entries = new Entry[old.Length * 2];
        var mask = _entries.Length - 1;
        foreach (var entry in old)
        {
            if (entry.Value is null)
                continue;
            var i = entry.Key.Hash & mask;
            while (_entries[i].Value is not null)
                i = (i + 1) & mask;
            _entries[i] = entry;
        }
    }

    private struct Entry(AddressKey key, T value)
    {
        public readonly AddressKey Key = key;
        public T? Value = value;
    }

    /// <summary>
    /// A socket address's bytes (sockaddr_in, 16; sockaddr_in6, 28), zero-padded to 32, with their
    /// length: equal exactly when <see cref="SocketAddress.Equals(SocketAddress)"/> says so.
    /// </summary>
    private readonly struct AddressKey : IEquatable<AddressKey>
    {
        private const int MaxSize = 32;

        private readonly ulong _a;
        private readonly ulong _b;
        private readonly ulong _c;
        private readonly ulong _d;
        private readonly int _size;

        public AddressKey(SocketAddress address)
        {
            var bytes = address.Buffer.Span[..address.Size];
            if (bytes.Length > MaxSize)
                throw new ArgumentException($"An address of {bytes.Length} bytes is not an IP socket address.", nameof(address));
            Span<byte> padded = stackalloc byte[MaxSize];
            padded.Clear();
            bytes.CopyTo(padded);
            _a = BinaryPrimitives.ReadUInt64LittleEndian(padded);
            _b = BinaryPrimitives.ReadUInt64LittleEndian(padded[8..]);
            _c = BinaryPrimitives.ReadUInt64LittleEndian(padded[16..]);
            _d = BinaryPrimitives.ReadUInt64LittleEndian(padded[24..]);
            _size = bytes.Length;
            Hash = HashCode.Combine(_a, _b, _c, _d) & int.MaxValue;
        }

        /// <summary>Non-negative; seeded per process (<see cref="HashCode"/>), so peers cannot choose collisions.</summary>
        public int Hash { get; }

        public bool Equals(AddressKey other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d && _size == other._size;

        public override bool Equals(object? obj) => obj is AddressKey other && Equals(other);

        public override int GetHashCode() => Hash;
    }
}
