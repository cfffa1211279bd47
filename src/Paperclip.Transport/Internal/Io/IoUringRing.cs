using System.Runtime.InteropServices;
using static Paperclip.Transport.Internal.Io.IoUringNative;

namespace Paperclip.Transport.Internal.Io;

/// <summary>
/// One io_uring: its submission and completion queues mapped into the process. Made with the
/// flags that let the kernel do the least work per datagram: one thread submits and waits
/// (single issuer), and the kernel's completion work runs only when that thread waits (deferred
/// task run), so a turn's receives of every socket complete in the one system call that waits.
/// The ring is made disabled and enabled by its loop's thread, which becomes its only submitter.
/// Loop thread only, once enabled.
/// </summary>
internal sealed unsafe class IoUringRing
{
    private const uint SubmissionEntries = 256;
    private const uint CompletionEntries = 8192;

    private readonly int _fd;
    private readonly uint* _sqHead;
    private readonly uint* _sqTailShared;
    private readonly uint _sqMask;
    private readonly uint _sqEntries;
    private readonly Sqe* _sqes;
    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint _cqMask;
    private readonly Cqe* _cqes;
    private uint _sqTail;
    private uint _unsubmitted;

    public IoUringRing()
    {
        var parameters = default(Params);
        parameters.Flags = SetupCqSize | SetupSubmitAll | SetupSingleIssuer | SetupDeferTaskRun | SetupDisabled;
        parameters.CqEntries = CompletionEntries;
        _fd = Setup(SubmissionEntries, &parameters);
        if (_fd < 0)
            throw new IOException($"io_uring_setup failed: {Marshal.GetLastPInvokeErrorMessage()}");
        const uint needed = FeatureSingleMmap | FeatureNoDrop | FeatureExtArg;
        if ((parameters.Features & needed) != needed)
        {
            Close(_fd);
            throw new PlatformNotSupportedException("This kernel's io_uring lacks single mmap, no-drop or extended wait arguments (Linux 5.11).");
        }
        var ringSize = Math.Max(parameters.SqArray + (parameters.SqEntries * sizeof(uint)), parameters.Cqes + (parameters.CqEntries * CqeSize));
        var ring = (byte*)Mmap(null, ringSize, ProtReadWrite, MapSharedPopulate, _fd, OffSqRing);
        var sqes = Mmap(null, parameters.SqEntries * SqeSize, ProtReadWrite, MapSharedPopulate, _fd, OffSqes);
        if (ring == (byte*)-1 || sqes == (void*)-1)
        {
            var error = Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
            Close(_fd);
            throw new IOException($"Mapping the io_uring failed: {error}");
        }
        _sqHead = (uint*)(ring + parameters.SqHead);
        _sqTailShared = (uint*)(ring + parameters.SqTail);
        _sqMask = *(uint*)(ring + parameters.SqRingMask);
        _sqEntries = *(uint*)(ring + parameters.SqRingEntries);
        _sqes = (Sqe*)sqes;
        _cqHead = (uint*)(ring + parameters.CqHead);
        _cqTail = (uint*)(ring + parameters.CqTail);
        _cqMask = *(uint*)(ring + parameters.CqRingMask);
        _cqes = (Cqe*)(ring + parameters.Cqes);
        // The submission array maps queue positions to entries: always the identity here.
        var array = (uint*)(ring + parameters.SqArray);
        for (uint i = 0; i < _sqEntries; i++)
            array[i] = i;
        _sqTail = *_sqTailShared;
    }

    /// <summary>Why io_uring cannot be used here (a kernel older than 6.1, a seccomp filter, the io_uring_disabled sysctl), or null.</summary>
    public static string? UnavailableReason => s_unavailableReason.Value;

    private static readonly Lazy<string?> s_unavailableReason = new(Probe);

    public int FileDescriptor => _fd;

    /// <summary>Makes the calling thread the ring's only submitter. Once, on the loop's thread.</summary>
    public void Enable()
    {
        if (Register(_fd, RegisterEnableRings, null, 0) < 0)
            throw new IOException($"Enabling the io_uring failed: {Marshal.GetLastPInvokeErrorMessage()}");
    }

    /// <summary>A cleared submission entry, queued for the next <see cref="Submit"/> or wait.</summary>
    public Sqe* NextSubmission()
    {
        if (_sqTail - Volatile.Read(ref *_sqHead) >= _sqEntries)
            Submit();
        var sqe = _sqes + (_sqTail & _sqMask);
        *sqe = default;
        _sqTail++;
        Volatile.Write(ref *_sqTailShared, _sqTail);
        _unsubmitted++;
        return sqe;
    }

    /// <summary>Hands the queued entries to the kernel without waiting.</summary>
    public void Submit()
    {
        while (_unsubmitted > 0)
        {
            var submitted = Enter(_fd, _unsubmitted, 0, 0, null, 0);
            if (submitted < 0)
            {
                var error = Marshal.GetLastPInvokeError();
                if (error == EINTR)
                    continue;
                // EBUSY, EAGAIN: completions wait for room; the entries go with the next wait.
                if (error is EBUSY or EAGAIN)
                    return;
                throw new IOException($"io_uring_enter failed: {Marshal.GetPInvokeErrorMessage(error)}");
            }
            _unsubmitted -= (uint)Math.Min(submitted, (int)_unsubmitted);
            if (submitted == 0)
                break;
        }
    }

    /// <summary>
    /// Submits what is queued and waits up to <paramref name="timeoutMs"/> (−1: no limit, 0: not at
    /// all) for a completion; the kernel's deferred receive work runs here.
    /// </summary>
    public void SubmitAndWait(int timeoutMs)
    {
        var arg = default(GetEventsArg);
        var timespec = default(Timespec);
        if (timeoutMs > 0)
        {
            timespec.Seconds = timeoutMs / 1000;
            timespec.Nanoseconds = (timeoutMs % 1000) * 1_000_000L;
            arg.Timespec = (ulong)&timespec;
        }
        var minComplete = timeoutMs == 0 ? 0u : 1u;
        var submitted = Enter(_fd, _unsubmitted, minComplete, EnterGetEvents | EnterExtArg, &arg, (nuint)sizeof(GetEventsArg));
        if (submitted >= 0)
        {
            _unsubmitted -= (uint)Math.Min(submitted, (int)_unsubmitted);
            return;
        }
        var error = Marshal.GetLastPInvokeError();
        // ETIME: the timeout passed; EINTR: a signal; EBUSY, EAGAIN: completions are waiting for
        // room in the queue (they are read next, then the entries go). The turn goes on.
        if (error is not (ETIME or EINTR or EBUSY or EAGAIN))
            throw new IOException($"io_uring_enter failed: {Marshal.GetPInvokeErrorMessage(error)}");
    }

    /// <summary>The completions posted so far: read them from <see cref="Completion"/>, then <see cref="Consume"/>.</summary>
    public uint Pending(out uint head)
    {
        head = *_cqHead;
        return Volatile.Read(ref *_cqTail) - head;
    }

    public ref Cqe Completion(uint position) => ref _cqes[position & _cqMask];

    /// <summary>Frees the completion entries read, up to <paramref name="head"/>.</summary>
    public void Consume(uint head) => Volatile.Write(ref *_cqHead, head);

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux() || !Environment.Is64BitProcess)
            return "io_uring needs 64-bit Linux";
        var parameters = default(Params);
        parameters.Flags = SetupSingleIssuer | SetupDeferTaskRun | SetupDisabled;
        var fd = Setup(4, &parameters);
        if (fd < 0)
            return $"io_uring_setup with deferred task run failed ({Marshal.GetLastPInvokeErrorMessage()}): it needs Linux 6.1, no seccomp filter refusing it and the io_uring_disabled sysctl at 0";
        Close(fd);
        return null;
    }
}
