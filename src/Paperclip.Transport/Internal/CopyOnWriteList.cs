namespace Paperclip.Transport.Internal;

/// <summary>
/// A list that is read far more often than changed: readers take <see cref="Items"/>, an array
/// never modified after it is published, so the timer and broadcasts enumerate it without a lock
/// or an allocation; joins and leaves copy it.
/// </summary>
internal sealed class CopyOnWriteList<T>
    where T : class
{
    private readonly Lock _lock = new();
    private T[] _items = [];

    public T[] Items => Volatile.Read(ref _items);

    public void Add(T item)
    {
        lock (_lock)
        {
            var items = new T[_items.Length + 1];
            _items.CopyTo(items, 0);
            items[^1] = item;
            Volatile.Write(ref _items, items);
        }
    }

    public void Remove(T item)
    {
        lock (_lock)
        {
            var index = Array.IndexOf(_items, item);
            if (index < 0)
                return;
            var items = new T[_items.Length - 1];
            _items.AsSpan(0, index).CopyTo(items);
            _items.AsSpan(index + 1).CopyTo(items.AsSpan(index));
            Volatile.Write(ref _items, items);
        }
    }
}
