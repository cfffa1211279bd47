using System.Runtime.InteropServices;
using static Paperclip.Transport.Internal.Io.IoUringNative;

namespace Paperclip.Transport.Internal.Io;

/// <summary>
/// A provided-buffer ring of an io_uring: <c>count</c> native buffers of <c>size</c> bytes that
/// the kernel takes one by one for the datagrams of every socket receiving from this group, and
/// that the loop gives back once it has handled the datagram in one. A buffer holds a
/// <c>struct io_uring_recvmsg_out</c>, the source address, then the datagram. Loop thread only.
/// </summary>
internal sealed unsafe class ProvidedBuffers
{
    private readonly byte* _ring;
    private readonly byte* _buffers;
    private readonly uint _mask;
    private ushort _tail;
    private bool _returned;

    public ProvidedBuffers(IoUringRing ring, ushort groupId, int count, int size)
    {
        GroupId = groupId;
        Size = size;
        _mask = (uint)count - 1;
        _ring = (byte*)NativeMemory.AlignedAlloc((nuint)(count * 16), 4096);
        NativeMemory.Clear(_ring, (nuint)(count * 16));
        _buffers = (byte*)NativeMemory.AlignedAlloc((nuint)count * (nuint)size, 64);
        var registration = new BufferRingRegistration { RingAddress = (ulong)_ring, RingEntries = (uint)count, GroupId = groupId };
        if (Register(ring.FileDescriptor, RegisterBufferRing, &registration, 1) < 0)
        {
            var error = Marshal.GetLastPInvokeError();
            NativeMemory.AlignedFree(_ring);
            NativeMemory.AlignedFree(_buffers);
            throw new IOException($"Registering io_uring receive buffers failed: {Marshal.GetPInvokeErrorMessage(error)}");
        }
        for (var id = 0; id < count; id++)
            Return((ushort)id);
        Publish();
    }

    public ushort GroupId { get; }

    /// <summary>Bytes of one buffer.</summary>
    public int Size { get; }

    public byte* this[ushort id] => _buffers + ((nint)id * Size);

    /// <summary>Gives a buffer back to the kernel (seen after <see cref="Publish"/>).</summary>
    public void Return(ushort id)
    {
        var entry = _ring + ((_tail & _mask) * 16);
        *(ulong*)entry = (ulong)this[id];
        *(uint*)(entry + 8) = (uint)Size;
        *(ushort*)(entry + 12) = id;
        _tail++;
        _returned = true;
    }

    /// <summary>Makes the returned buffers the kernel's again: the ring's tail, after the entries.</summary>
    public void Publish()
    {
        if (!_returned)
            return;
        Volatile.Write(ref *(ushort*)(_ring + 14), _tail);
        _returned = false;
    }
}
