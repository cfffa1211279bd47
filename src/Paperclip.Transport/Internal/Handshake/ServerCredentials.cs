using System.Security.Cryptography;
using Paperclip.Protocol.Crypto;

namespace Paperclip.Transport.Internal.Handshake;

/// <summary>
/// The server's certificate and the key that signs its AUTH, replaceable while the server runs (a
/// game host's certificate is short-lived). Signing and replacing share one lock: a handshake
/// signs with the key of the certificate it sends, and once <see cref="Replace"/> returns the
/// previous key is never used again. The lock also serialises signing, which a key object does
/// not support concurrently.
/// </summary>
internal sealed class ServerCredentials(byte[] certificate, AsymmetricAlgorithm privateKey)
{
    private readonly Lock _lock = new();
    private byte[] _certificate = certificate;
    private AsymmetricAlgorithm _privateKey = privateKey;

    /// <summary>Signs the handshake transcript (protocol §5.1) and gives the certificate that goes with the signature.</summary>
    public byte[] Sign(ReadOnlySpan<byte> clientAuth, ReadOnlySpan<byte> ephemeralPublicKey, out byte[] certificate)
    {
        lock (_lock)
        {
            certificate = _certificate;
            return AuthSignature.SignServer(_privateKey, clientAuth, ephemeralPublicKey);
        }
    }

    /// <summary>Takes a new certificate and key for the handshakes signed from now on.</summary>
    public void Replace(byte[] certificate, AsymmetricAlgorithm privateKey)
    {
        lock (_lock)
        {
            _certificate = certificate;
            _privateKey = privateKey;
        }
    }
}
