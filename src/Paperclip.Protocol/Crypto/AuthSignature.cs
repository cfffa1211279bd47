using System.Security.Cryptography;
using Paperclip.Protocol.Certificates;

namespace Paperclip.Protocol.Crypto;

/// <summary>
/// The AUTH signatures (protocol §5.2), made with the private key of the certificate in CERT:
/// RSASSA-PKCS1-v1_5 with SHA-256 for RSA, ECDSA with SHA-256 (DER) for EC.
/// </summary>
public static class AuthSignature
{
    private const int HashSize = 32;

    private static ReadOnlySpan<byte> ClientLabel => "paperclip v1 client auth"u8;
    private static ReadOnlySpan<byte> ServerLabel => "paperclip v1 server auth"u8;

    /// <summary>The client's SIG: over <c>"paperclip v1 client auth" || KEY</c>.</summary>
    /// <param name="key">The account certificate's private key (RSA or ECDsa).</param>
    /// <param name="ephemeralPublicKey">KEY: the client's ephemeral public key (SPKI DER).</param>
    public static byte[] SignClient(AsymmetricAlgorithm key, ReadOnlySpan<byte> ephemeralPublicKey) =>
        Signatures.Sign(key, ClientMessage(ephemeralPublicKey));

    /// <summary>
    /// Checks a client SIG with the public key of <paramref name="certificateDer"/>, read in place:
    /// the server's validator has parsed and checked the certificate itself.
    /// </summary>
    /// <returns>False, never an exception, for a bad signature or anything malformed.</returns>
    public static bool VerifyClient(ReadOnlySpan<byte> certificateDer, ReadOnlySpan<byte> ephemeralPublicKey, ReadOnlySpan<byte> signature) =>
        CertificateParts.TryReadSubjectPublicKeyInfo(certificateDer, out var subjectPublicKeyInfo)
        && Signatures.Verify(subjectPublicKeyInfo, ClientMessage(ephemeralPublicKey), signature);

    /// <summary>The server's SIG: over <c>"paperclip v1 server auth" || SHA-256(client AUTH datagram) || KEY</c>.</summary>
    /// <param name="key">The server certificate's private key (RSA or ECDsa).</param>
    /// <param name="clientAuthDatagram">The client's AUTH datagram exactly as received.</param>
    /// <param name="ephemeralPublicKey">KEY: the server's ephemeral public key (SPKI DER).</param>
    public static byte[] SignServer(AsymmetricAlgorithm key, ReadOnlySpan<byte> clientAuthDatagram, ReadOnlySpan<byte> ephemeralPublicKey) =>
        Signatures.Sign(key, ServerMessage(clientAuthDatagram, ephemeralPublicKey));

    /// <summary>Checks a server SIG with the public key of <paramref name="certificateDer"/>.</summary>
    /// <returns>False, never an exception, for a bad signature or anything malformed.</returns>
    public static bool VerifyServer(ReadOnlySpan<byte> certificateDer, ReadOnlySpan<byte> clientAuthDatagram, ReadOnlySpan<byte> ephemeralPublicKey, ReadOnlySpan<byte> signature) =>
        CertificateParts.TryParse(certificateDer, out var parts)
        && Signatures.Verify(parts.SubjectPublicKeyInfo.Span, ServerMessage(clientAuthDatagram, ephemeralPublicKey), signature);

    private static byte[] ClientMessage(ReadOnlySpan<byte> ephemeralPublicKey)
    {
        var message = new byte[ClientLabel.Length + ephemeralPublicKey.Length];
        ClientLabel.CopyTo(message);
        ephemeralPublicKey.CopyTo(message.AsSpan(ClientLabel.Length));
        return message;
    }

    private static byte[] ServerMessage(ReadOnlySpan<byte> clientAuthDatagram, ReadOnlySpan<byte> ephemeralPublicKey)
    {
        var message = new byte[ServerLabel.Length + HashSize + ephemeralPublicKey.Length];
        ServerLabel.CopyTo(message);
        SHA256.HashData(clientAuthDatagram, message.AsSpan(ServerLabel.Length, HashSize));
        ephemeralPublicKey.CopyTo(message.AsSpan(ServerLabel.Length + HashSize));
        return message;
    }
}
