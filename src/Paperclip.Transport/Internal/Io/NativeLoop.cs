using System.Net;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Paperclip.Transport.Internal.Io;

/// <summary>
/// What the Linux loops (epoll, io_uring) share: an eventfd that other threads write to wake the
/// loop, and the turn's sends, which leave at its end in one sendmmsg per socket.
/// </summary>
internal abstract unsafe class NativeLoop : IoLoop
{
    protected NativeLoop(string name, ILogger logger, int wakeFdFlags)
        : base(name, logger)
    {
        WakeFd = Libc.EventFd(0, Libc.EFD_CLOEXEC | wakeFdFlags);
        if (WakeFd < 0)
            throw new IOException($"eventfd failed: {Marshal.GetLastPInvokeErrorMessage()}");
    }

    /// <summary>The datagrams of this turn, and what sendmmsg did with them.</summary>
    public NativeSendBatch Sends { get; } = new();

    /// <summary>Written by <see cref="Wake"/>; the loop reads it when it wakes.</summary>
    protected int WakeFd { get; }

    public override bool TryQueueSend(UdpEndpoint endpoint, ReadOnlySpan<byte> datagram, SocketAddress to) => Sends.TryQueue(endpoint, datagram, to);

    protected override void FlushSends() => Sends.FlushAll();

    protected override void Wake()
    {
        ulong one = 1;
        Libc.Write(WakeFd, &one, sizeof(ulong));
    }
}
