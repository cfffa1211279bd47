using System.Buffers;

namespace Paperclip.Protocol;

/// <summary>Bytes in an array rented from <see cref="ArrayPool{T}.Shared"/>; disposing returns the array.</summary>
public struct PooledBuffer : IDisposable
{
    private byte[]? _array;

    /// <summary>Rents room for at least <paramref name="length"/> bytes and sets <see cref="Length"/> to it.</summary>
    public PooledBuffer(int length)
    {
        _array = ArrayPool<byte>.Shared.Rent(length);
        Length = length;
    }

    /// <summary>The bytes in use.</summary>
    public int Length { get; private set; }

    /// <summary>The bytes in use.</summary>
    public readonly Span<byte> Span => _array.AsSpan(0, Length);

    /// <summary>Returns the array to the pool.</summary>
    public void Dispose()
    {
        if (_array is { } array)
        {
            _array = null;
            Length = 0;
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
