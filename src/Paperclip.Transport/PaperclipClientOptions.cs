using System.Security.Cryptography;

namespace Paperclip.Transport;

/// <summary>Options of a <see cref="PaperclipClient"/>.</summary>
public sealed class PaperclipClientOptions : PaperclipOptions
{
    /// <summary>The account certificate (DER). Required.</summary>
    public byte[]? Certificate { get; set; }

    /// <summary>The account's private key (RSA or ECDSA). Required.</summary>
    public AsymmetricAlgorithm? PrivateKey { get; set; }

    /// <summary>The backend's server public key (SubjectPublicKeyInfo DER) that signs server certificates. Required.</summary>
    public byte[]? ServerPublicKey { get; set; }

    /// <summary>First AUTH retransmission delay; it doubles after each. Default 250 ms.</summary>
    public TimeSpan AuthRetransmitDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The protocol version asked for. Default 2 (channels, X25519). A version-1 server refuses it;
    /// the client then fails with <see cref="Protocol.VersionUnsupportedException"/> unless
    /// <see cref="AllowVersionFallback"/> is set.
    /// </summary>
    public int ProtocolVersion { get; set; } = Protocol.ProtocolConstants.LatestVersion;

    /// <summary>
    /// Whether a refusal of <see cref="ProtocolVersion"/> may be answered by retrying with a lower
    /// version the server lists (protocol §5.1). Default false: falling back is a choice of the
    /// game (a session without channels), never made silently; the FALLBACK byte keeps an
    /// injected refusal from downgrading a session.
    /// </summary>
    public bool AllowVersionFallback { get; set; }

    /// <summary>
    /// The ephemeral key algorithm of the handshake. Default X25519: a version-2 server accepts
    /// both. X25519 costs it about what P-256 does where P-256 calls OpenSSL 3 directly (Linux), and
    /// less than half where P-256 goes through .NET's ECDiffieHellman (elsewhere). Version 1 knows only P-256, so
    /// with <see cref="ProtocolVersion"/> 1 (or after a fallback) P-256 is used whatever this says.
    /// </summary>
    public Protocol.Crypto.KeyAgreement KeyAgreement { get; set; } = Protocol.Crypto.KeyAgreement.X25519;

    /// <inheritdoc />
    internal override void Validate()
    {
        base.Validate();
        Require(Certificate is { Length: > 0 }, nameof(Certificate), "is required");
        Require(PrivateKey is RSA or ECDsa, nameof(PrivateKey), "is required (RSA or ECDSA)");
        Require(ServerPublicKey is { Length: > 0 }, nameof(ServerPublicKey), "is required");
        Require(AuthRetransmitDelay >= TimeSpan.FromMilliseconds(10), nameof(AuthRetransmitDelay), "must be at least 10 ms");
        Require(ProtocolVersion is Protocol.ProtocolConstants.Version1 or Protocol.ProtocolConstants.Version2, nameof(ProtocolVersion), "must be 1 or 2");
        Require(Enum.IsDefined(KeyAgreement), nameof(KeyAgreement), "must be P256 or X25519");
    }
}
