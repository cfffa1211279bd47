using Paperclip.Transport.Internal.Io;

namespace Paperclip.Transport.Tests.Io;

/// <summary>The socket engines this machine can run: epoll and io_uring on Linux (io_uring where the kernel allows it), portable everywhere.</summary>
internal static class TestEngines
{
    public static TheoryData<SocketEngine> All
    {
        get
        {
            var engines = new TheoryData<SocketEngine>();
            if (OperatingSystem.IsLinux())
                engines.Add(SocketEngine.Epoll);
            if (IoUringRing.UnavailableReason is null)
                engines.Add(SocketEngine.IoUring);
            engines.Add(SocketEngine.Portable);
            return engines;
        }
    }
}
