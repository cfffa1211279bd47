using Paperclip.Protocol;
using Paperclip.Protocol.Certificates;
using Paperclip.Protocol.Crypto;

namespace Paperclip.Fuzz.Targets;

/// <summary>
/// <c>auth</c>: an AUTH datagram through the checks both ends make of it: the reader's CERT, KEY
/// and SIG fields, the certificate read as an account's and as a server's, the signature checked
/// as a client's and as a server's, and ECDH with the KEY. Promised: false, never an exception.
/// </summary>
public static class AuthTarget
{
    private static readonly byte[] AccountKey = VectorData.AccountPublicKey;
    private static readonly byte[] ServerKey = VectorData.ServerPublicKey;
    private static readonly DateTimeOffset Now = VectorData.CheckTime;
    private static readonly EphemeralKey Ephemeral = EphemeralKey.Generate();

    public static void Run(ReadOnlySpan<byte> datagram)
    {
        if (!PacketReader.TryRead(datagram, out var header, out _) || header.Type != PacketType.Auth || header.Version != ProtocolConstants.Version1)
            return;
        PacketTarget.Check(datagram, header);
        var certificate = datagram[header.Certificate];
        var key = datagram[header.Key];
        var signature = datagram[header.Signature];

        // What a server does with a client's AUTH.
        if (AccountCertificate.TryReadIdentity(certificate, out var identity) && identity.AccountId < 0)
            throw new FindingException($"A negative account id {identity.AccountId} was read.");
        ServerCertificate.HasAccountId(certificate);
        AccountCertificate.Validate(certificate, AccountKey, Now);
        AuthSignature.VerifyClient(certificate, key, signature);
        Span<byte> secret = stackalloc byte[EphemeralKey.SharedSecretSize];
        Ephemeral.TryDeriveSharedSecret(key, secret);

        // What a client does with a server's.
        ServerCertificate.Validate(certificate, ServerKey, Now);
        AuthSignature.VerifyServer(certificate, datagram, key, signature);
    }
}
