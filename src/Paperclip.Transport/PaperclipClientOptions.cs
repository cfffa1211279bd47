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

    /// <inheritdoc />
    internal override void Validate()
    {
        base.Validate();
        Require(Certificate is { Length: > 0 }, nameof(Certificate), "is required");
        Require(PrivateKey is RSA or ECDsa, nameof(PrivateKey), "is required (RSA or ECDSA)");
        Require(ServerPublicKey is { Length: > 0 }, nameof(ServerPublicKey), "is required");
        Require(AuthRetransmitDelay >= TimeSpan.FromMilliseconds(10), nameof(AuthRetransmitDelay), "must be at least 10 ms");
    }
}
