using System.Globalization;
using System.Runtime.InteropServices;

namespace Paperclip.LoadTest;

/// <summary>
/// The machine's limits a density run meets before any of its figures: open files per process and
/// the ephemeral range every OS-chosen port (servers' and clients') comes from. Checked up front so
/// a run that cannot fit says which limit and how to raise it, instead of failing at server 19,990.
/// Linux only; elsewhere the bind reports what ran out.
/// </summary>
internal static class Limits
{
    private const int RlimitNoFile = 7; // RLIMIT_NOFILE on Linux x64 and arm64

    /// <summary>Throws unless RLIMIT_NOFILE admits <paramref name="needed"/> descriptors in one process.</summary>
    /// <remarks>
    /// The .NET runtime already raises the soft limit to the hard one at startup, and children
    /// inherit it, so the soft limit read here is the ceiling; only the hard limit can lift it.
    /// </remarks>
    public static void RequireOpenFiles(long needed, string process)
    {
        if (!OperatingSystem.IsLinux() || getrlimit(RlimitNoFile, out var limit) != 0 || (ulong)needed <= limit.Current)
            return;
        throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
            $"The {process} process needs about {needed} open files (one UDP socket each, plus the runtime's), but RLIMIT_NOFILE is {limit.Current} (hard {limit.Maximum}). "
            + $"Raise the hard limit, e.g. `ulimit -Hn {needed} && ulimit -n {needed}` as root, LimitNOFILE= in a systemd unit or nofile in /etc/security/limits.conf, or run fewer."));
    }

    /// <summary>Throws unless the ephemeral port range holds <paramref name="needed"/> sockets bound to port 0.</summary>
    public static void RequireEphemeralPorts(long needed)
    {
        const string path = "/proc/sys/net/ipv4/ip_local_port_range";
        if (!OperatingSystem.IsLinux() || !File.Exists(path))
            return;
        var range = File.ReadAllText(path).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        var ports = range[1] - range[0] + 1;
        if (needed <= ports)
            return;
        throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
            $"The run binds {needed} sockets to OS-chosen ports, but the ephemeral range {range[0]}–{range[1]} ({path}) has {ports}. Widen it (sysctl net.ipv4.ip_local_port_range) or run fewer."));
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getrlimit(int resource, out RLimit limit);
}
