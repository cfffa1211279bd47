using System.Net;
using System.Security.Cryptography;
using Paperclip.Protocol;

namespace Paperclip.Transport;

/// <summary>When the server demands an address-validation cookie before any asymmetric work (protocol §5.6).</summary>
public enum CookieMode
{
    /// <summary>Never.</summary>
    Off,
    /// <summary>For every handshake.</summary>
    Always,
    /// <summary>While under load: more than <see cref="PaperclipServerOptions.CookiePendingThreshold"/> pending handshakes or <see cref="PaperclipServerOptions.CookieAuthRateThreshold"/> AUTH packets in the last second. The default.</summary>
    Automatic,
}

/// <summary>Options of a <see cref="PaperclipServer"/>.</summary>
public sealed class PaperclipServerOptions : PaperclipOptions
{
    /// <summary>Where to listen. Default <c>[::]:0</c>, dual-mode (IPv4 and IPv6), a port the system picks.</summary>
    public IPEndPoint ListenEndPoint { get; set; } = new(IPAddress.IPv6Any, 0);

    /// <summary>The server certificate (DER), signed by the backend's server key. Required.</summary>
    public byte[]? Certificate { get; set; }

    /// <summary>The certificate's private key (RSA or ECDSA), used to sign AUTH. Required.</summary>
    public AsymmetricAlgorithm? PrivateKey { get; set; }

    /// <summary>Checks client certificates. Required.</summary>
    public ICertificateValidator? CertificateValidator { get; set; }

    /// <summary>
    /// Optional: decides whether a client whose certificate checked out may join now (a lobby's
    /// reservations, bans). Called before key agreement; false answers CONNECTION / NO_SPACE.
    /// </summary>
    public Func<ClientIdentity, bool>? Admission { get; set; }

    /// <summary>Connected clients at most; more get CONNECTION / NO_SPACE. Default 1024.</summary>
    public int MaxClients { get; set; } = 1024;

    /// <summary>Handshakes in progress at most; more are dropped unanswered. Default 4096.</summary>
    public int MaxPendingHandshakes { get; set; } = 4096;

    /// <summary>When cookies are demanded. Default <see cref="CookieMode.Automatic"/>.</summary>
    public CookieMode CookieMode { get; set; } = CookieMode.Automatic;

    /// <summary>Automatic cookies start above this many pending handshakes. Default 64.</summary>
    public int CookiePendingThreshold { get; set; } = 64;

    /// <summary>Automatic cookies start above this many AUTH packets in the last second. Default 500.</summary>
    public int CookieAuthRateThreshold { get; set; } = 500;

    /// <summary>Lifetime of a cookie and of its secret. Default 120 s.</summary>
    public TimeSpan CookieLifetime { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Bytes of partial messages held by all sessions together. Default 256 MiB.</summary>
    public long MaxReassemblyBytes { get; set; } = 256L << 20;

    /// <summary>
    /// Bytes of out-of-order CHANNEL messages held by all sessions together (protocol §8). Default
    /// 64 MiB, the spec's: past it a new out-of-order message is refused (its sender resends it),
    /// so that many peers each holding back a gap cannot exhaust the server's memory.
    /// </summary>
    public long MaxHeldBytesTotal { get; set; } = ProtocolConstants.MaxHeldBytesTotal;

    /// <summary>
    /// The highest protocol version accepted; every version from 1 up to it is. Default 2 (channels,
    /// X25519). 1 makes the server a version-1 server: a version-2 client is refused with
    /// CONNECTION / VERSION_UNSUPPORTED and may fall back (protocol §5.1).
    /// </summary>
    public int MaxProtocolVersion { get; set; } = ProtocolConstants.LatestVersion;

    /// <inheritdoc />
    internal override void Validate()
    {
        base.Validate();
        ArgumentNullException.ThrowIfNull(ListenEndPoint);
        Require(Certificate is { Length: > 0 }, nameof(Certificate), "is required");
        Require(PrivateKey is RSA or ECDsa, nameof(PrivateKey), "is required (RSA or ECDSA)");
        Require(CertificateValidator is not null, nameof(CertificateValidator), "is required");
        Require(MaxClients > 0, nameof(MaxClients), "must be positive");
        Require(MaxPendingHandshakes > 0, nameof(MaxPendingHandshakes), "must be positive");
        Require(CookiePendingThreshold >= 0, nameof(CookiePendingThreshold), "must not be negative");
        Require(CookieAuthRateThreshold >= 0, nameof(CookieAuthRateThreshold), "must not be negative");
        Require(CookieLifetime >= TimeSpan.FromSeconds(1), nameof(CookieLifetime), "must be at least 1 s");
        Require(MaxReassemblyBytes >= MaxPartialBytes, nameof(MaxReassemblyBytes), "must be at least MaxPartialBytes");
        Require(MaxHeldBytesTotal >= MaxHeldBytes, nameof(MaxHeldBytesTotal), "must be at least MaxHeldBytes");
        Require(MaxProtocolVersion is ProtocolConstants.Version1 or ProtocolConstants.Version2, nameof(MaxProtocolVersion), "must be 1 or 2");
    }
}
