using System.Diagnostics.Metrics;
using Paperclip.Protocol;

namespace Paperclip.Transport.Internal;

/// <summary>
/// The <c>Paperclip.Transport</c> meter: the servers of this process, summed. The traffic
/// instruments are observable: they read, when a listener collects, the counters every session
/// keeps anyway (<see cref="ConnectionStatistics"/>, <see cref="ServerStatistics"/>), so the packet
/// path does no work for them. Only handshake outcomes (rare) and RTT samples (one per
/// acknowledgement that gives one) are recorded as they happen, and with no listener those calls
/// return at once. Counters stay monotonic across sessions and servers that end: what an ended
/// one counted is added to <see cref="s_ended"/>, under the same lock as a collection.
/// </summary>
internal static class TransportMetrics
{
    public const string MeterName = "Paperclip.Transport";

    private static readonly Meter s_meter = new(MeterName);
    private static readonly Lock s_lock = new();
    private static readonly HashSet<PaperclipServer> s_servers = [];
    private static readonly DropReason[] s_dropReasons = Enum.GetValues<DropReason>();
    private static readonly Totals s_ended = new();
    private static long s_pendingLimitDrops;

    private static readonly Counter<long> s_handshakesCompleted = s_meter.CreateCounter<long>(
        "paperclip.transport.handshakes.completed", "{handshake}", "Handshakes that ended with a connected client.");

    private static readonly Counter<long> s_handshakesFailed = s_meter.CreateCounter<long>(
        "paperclip.transport.handshakes.failed", "{handshake}", "Handshakes refused or timed out, by reason.");

    // Loopback is well under a millisecond, a game over the Internet 10–300 ms.
    private static readonly Histogram<double> s_rtt = s_meter.CreateHistogram(
        "paperclip.transport.rtt", "s", "Round-trip time samples (acknowledged messages not sent twice, Karn).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2, 5] });

    static TransportMetrics()
    {
        s_meter.CreateObservableUpDownCounter("paperclip.transport.sessions", () => Sum(static s => s.ConnectionCount), "{session}", "Connected clients.");
        s_meter.CreateObservableUpDownCounter("paperclip.transport.handshakes.pending", () => Sum(static s => s.PendingHandshakeCount), "{handshake}", "Handshakes in progress.");
        s_meter.CreateObservableCounter("paperclip.transport.datagrams", () => ByDirection(static t => (t.DatagramsSent, t.DatagramsReceived)), "{datagram}", "Datagrams sent and received by the servers' sessions.");
        s_meter.CreateObservableCounter("paperclip.transport.bytes", () => ByDirection(static t => (t.BytesSent, t.BytesReceived)), "By", "Bytes of the datagrams sent and received by the servers' sessions.");
        s_meter.CreateObservableCounter("paperclip.transport.messages", () => ByDirection(static t => (t.MessagesSent, t.MessagesReceived)), "{message}", "Application messages sent and delivered.");
        s_meter.CreateObservableCounter("paperclip.transport.retransmissions", () => Collect().Retransmissions, "{message}", "Reliable messages sent again: found lost from ACKs, or after their timeout.");
        s_meter.CreateObservableCounter("paperclip.transport.drops", Drops, "{datagram}", "Received datagrams or packets dropped, by reason; amplification_limit counts handshake answers held back.");
    }

    /// <summary>A started server: its sessions count from now on.</summary>
    public static void ServerStarted(PaperclipServer server)
    {
        lock (s_lock)
            s_servers.Add(server);
    }

    /// <summary>A server whose sessions have all closed: its own counters move to the ended totals.</summary>
    public static void ServerStopped(PaperclipServer server)
    {
        lock (s_lock)
        {
            if (!s_servers.Remove(server))
                return;
            s_ended.AddServer(server.Statistics);
        }
    }

    /// <summary>Before a server session is unlisted: its counters move to the ended totals, once.</summary>
    public static void SessionClosed(ConnectionStatistics statistics)
    {
        lock (s_lock)
        {
            if (statistics.CountedAsEnded)
                return;
            statistics.CountedAsEnded = true;
            s_ended.AddSession(statistics);
        }
    }

    public static void HandshakeCompleted() => s_handshakesCompleted.Add(1);

    public static void HandshakeFailed(ConnectionError error) => s_handshakesFailed.Add(1, new KeyValuePair<string, object?>("reason", error switch
    {
        ConnectionError.NoSpace => "no_space",
        ConnectionError.CertificateInvalid => "certificate_invalid",
        ConnectionError.FinishInvalid => "finish_invalid",
        ConnectionError.VersionUnsupported => "version_unsupported",
        _ => "connection",
    }));

    public static void HandshakeTimedOut() => s_handshakesFailed.Add(1, new KeyValuePair<string, object?>("reason", "timeout"));

    /// <summary>An AUTH dropped unanswered because <see cref="PaperclipServerOptions.MaxPendingHandshakes"/> are in progress.</summary>
    public static void PendingLimitDropped() => Interlocked.Increment(ref s_pendingLimitDrops);

    public static void RecordRtt(double milliseconds) => s_rtt.Record(milliseconds / 1000);

    private static long Sum(Func<PaperclipServer, int> count)
    {
        lock (s_lock)
            return s_servers.Sum(count);
    }

    private static Measurement<long>[] ByDirection(Func<Totals, (long Sent, long Received)> select)
    {
        var (sent, received) = select(Collect());
        return [new(sent, new KeyValuePair<string, object?>("network.io.direction", "transmit")), new(received, new KeyValuePair<string, object?>("network.io.direction", "receive"))];
    }

    private static IEnumerable<Measurement<long>> Drops()
    {
        var totals = Collect();
        foreach (var reason in s_dropReasons)
            yield return Drop(ReasonName(reason), totals.Drops[(int)reason]);
        yield return Drop("unknown_peer", totals.UnknownPeer);
        yield return Drop("short_auth", totals.ShortAuth);
        yield return Drop("amplification_limit", totals.AmplificationLimited);
        yield return Drop("rate_limited", Interlocked.Read(ref s_pendingLimitDrops));

        static Measurement<long> Drop(string reason, long value) => new(value, new KeyValuePair<string, object?>("reason", reason));
    }

    private static string ReasonName(DropReason reason) => reason switch
    {
        DropReason.Malformed => "malformed",
        DropReason.NotAdmitted => "not_admitted",
        DropReason.Replay => "replay",
        DropReason.Authentication => "aead_failure",
        DropReason.Checksum => "checksum",
        DropReason.Decompression => "decompression",
        DropReason.Duplicate => "duplicate",
        DropReason.Reassembly => "reassembly",
        DropReason.Refused => "refused",
        _ => reason.ToString(),
    };

    /// <summary>The ended totals plus every live server and session, read under the lock.</summary>
    private static Totals Collect()
    {
        var totals = new Totals();
        lock (s_lock)
        {
            totals.Add(s_ended);
            foreach (var server in s_servers)
            {
                totals.AddServer(server.Statistics);
                foreach (var session in server.SessionList)
                {
                    if (!session.Statistics.CountedAsEnded)
                        totals.AddSession(session.Statistics);
                }
            }
        }
        return totals;
    }

    private sealed class Totals
    {
        public long DatagramsSent, DatagramsReceived, BytesSent, BytesReceived, MessagesSent, MessagesReceived, Retransmissions;
        public long UnknownPeer, ShortAuth, AmplificationLimited;
        public readonly long[] Drops = new long[s_dropReasons.Length];

        public void AddSession(ConnectionStatistics s)
        {
            DatagramsSent += s.DatagramsSent;
            DatagramsReceived += s.DatagramsReceived;
            BytesSent += s.BytesSent;
            BytesReceived += s.BytesReceived;
            MessagesSent += s.MessagesSent;
            MessagesReceived += s.MessagesReceived;
            Retransmissions += s.Retransmissions;
            foreach (var reason in s_dropReasons)
                Drops[(int)reason] += s.Dropped(reason);
        }

        public void AddServer(ServerStatistics s)
        {
            UnknownPeer += s.UnknownPeerDropped;
            ShortAuth += s.ShortAuthDropped;
            AmplificationLimited += s.AmplificationLimited;
        }

        public void Add(Totals t)
        {
            DatagramsSent += t.DatagramsSent;
            DatagramsReceived += t.DatagramsReceived;
            BytesSent += t.BytesSent;
            BytesReceived += t.BytesReceived;
            MessagesSent += t.MessagesSent;
            MessagesReceived += t.MessagesReceived;
            Retransmissions += t.Retransmissions;
            UnknownPeer += t.UnknownPeer;
            ShortAuth += t.ShortAuth;
            AmplificationLimited += t.AmplificationLimited;
            for (var i = 0; i < Drops.Length; i++)
                Drops[i] += t.Drops[i];
        }
    }
}
