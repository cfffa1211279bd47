namespace Paperclip.Protocol.Certificates;

/// <summary>The key pairs the backend issues to accounts and servers.</summary>
public enum KeyAlgorithm
{
    /// <summary>ECDSA on P-256: the default, since it signs about twenty times faster than RSA-2048 (handshakes per second).</summary>
    EcdsaP256,

    /// <summary>RSA with a 2048-bit modulus.</summary>
    Rsa2048,
}
