using System.Runtime.InteropServices;

namespace Paperclip.Transport.Internal.Io;

/// <summary>
/// The Linux io_uring interface the io_uring engine uses: its three system calls (the same numbers
/// on every architecture), mmap, and the layouts of the kernel's structs (include/uapi/linux/io_uring.h).
/// </summary>
internal static unsafe partial class IoUringNative
{
    private const long SysSetup = 425;
    private const long SysEnter = 426;
    private const long SysRegister = 427;

    // io_uring_setup flags.
    public const uint SetupCqSize = 1u << 3;
    public const uint SetupDisabled = 1u << 6;
    public const uint SetupSubmitAll = 1u << 7;
    public const uint SetupSingleIssuer = 1u << 12;
    public const uint SetupDeferTaskRun = 1u << 13;

    // io_uring_params.features.
    public const uint FeatureSingleMmap = 1u << 0;
    public const uint FeatureNoDrop = 1u << 1;
    public const uint FeatureExtArg = 1u << 8;

    // io_uring_enter flags.
    public const uint EnterGetEvents = 1u << 0;
    public const uint EnterExtArg = 1u << 3;

    // io_uring_register opcodes.
    public const uint RegisterEnableRings = 12;
    public const uint RegisterBufferRing = 22;

    // Opcodes, SQE flags, CQE flags.
    public const byte OpRecvMsg = 10;
    public const byte OpAsyncCancel = 14;
    public const byte OpRead = 22;
    public const byte SqeBufferSelect = 1 << 5;
    public const ushort RecvMultishot = 1 << 1;
    public const uint CqeBuffer = 1u << 0;
    public const uint CqeMore = 1u << 1;
    public const int CqeBufferShift = 16;

    public const long OffSqRing = 0;
    public const long OffSqes = 0x10000000;

    public const int ENOBUFS = 105;
    public const int ECANCELED = 125;
    public const int ETIME = 62;
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int EBUSY = 16;

    public const int SqeSize = 64;
    public const int CqeSize = 16;

    /// <summary>struct io_uring_params: 120 bytes; the queues' offsets start at 40 and 80.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 120)]
    public struct Params
    {
        [FieldOffset(0)] public uint SqEntries;
        [FieldOffset(4)] public uint CqEntries;
        [FieldOffset(8)] public uint Flags;
        [FieldOffset(20)] public uint Features;
        [FieldOffset(40)] public uint SqHead;
        [FieldOffset(44)] public uint SqTail;
        [FieldOffset(48)] public uint SqRingMask;
        [FieldOffset(52)] public uint SqRingEntries;
        [FieldOffset(64)] public uint SqArray;
        [FieldOffset(80)] public uint CqHead;
        [FieldOffset(84)] public uint CqTail;
        [FieldOffset(88)] public uint CqRingMask;
        [FieldOffset(92)] public uint CqRingEntries;
        [FieldOffset(100)] public uint Cqes;
    }

    /// <summary>struct io_uring_sqe: 64 bytes.</summary>
    [StructLayout(LayoutKind.Explicit, Size = SqeSize)]
    public struct Sqe
    {
        [FieldOffset(0)] public byte Opcode;
        [FieldOffset(1)] public byte Flags;
        [FieldOffset(2)] public ushort IoPriority;
        [FieldOffset(4)] public int Fd;
        [FieldOffset(8)] public ulong Offset;
        [FieldOffset(16)] public ulong Address;
        [FieldOffset(24)] public uint Length;
        [FieldOffset(28)] public uint OpFlags;
        [FieldOffset(32)] public ulong UserData;
        [FieldOffset(40)] public ushort BufferGroup;
    }

    /// <summary>struct io_uring_cqe: 16 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Cqe
    {
        public ulong UserData;
        public int Result;
        public uint Flags;
    }

    /// <summary>struct io_uring_buf_reg: a provided-buffer ring to register.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 40)]
    public struct BufferRingRegistration
    {
        [FieldOffset(0)] public ulong RingAddress;
        [FieldOffset(8)] public uint RingEntries;
        [FieldOffset(12)] public ushort GroupId;
    }

    /// <summary>struct io_uring_getevents_arg: a wait's timeout.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 24)]
    public struct GetEventsArg
    {
        [FieldOffset(16)] public ulong Timespec;
    }

    /// <summary>struct __kernel_timespec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    /// <summary>struct io_uring_recvmsg_out: what a multishot recvmsg writes at the start of each buffer.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct RecvMsgOut
    {
        public uint NameLength;
        public uint ControlLength;
        public uint PayloadLength;
        public uint Flags;
    }

    public static int Setup(uint entries, Params* parameters) => (int)Syscall(SysSetup, entries, (long)parameters, 0, 0, 0, 0);

    public static int Enter(int fd, uint toSubmit, uint minComplete, uint flags, void* arg, nuint argSize) =>
        (int)Syscall(SysEnter, fd, toSubmit, minComplete, flags, (long)arg, (long)argSize);

    public static int Register(int fd, uint opcode, void* arg, uint count) => (int)Syscall(SysRegister, fd, opcode, (long)arg, count, 0, 0);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    public const int ProtReadWrite = 0x1 | 0x2;
    public const int MapSharedPopulate = 0x01 | 0x8000;
}
