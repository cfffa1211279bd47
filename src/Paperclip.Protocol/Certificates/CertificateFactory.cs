using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Paperclip.Protocol.Crypto;

namespace Paperclip.Protocol.Certificates;

/// <summary>Issues the protocol's certificates: X.509 v3, SHA-256 signatures, SAN DNS:localhost, random serial.</summary>
internal static class CertificateFactory
{
    private const int SerialSize = 16;

    /// <summary>
    /// A certificate for <paramref name="key"/>'s public key, signed by it, with subject = issuer =
    /// O, CN and then the extra attributes, all UTF8String (in that order in the DER).
    /// </summary>
    public static byte[] CreateSelfSigned(AsymmetricAlgorithm key, DateTimeOffset notBefore, TimeSpan validity,
        string organization, string commonName, params ReadOnlySpan<(string Oid, string Value)> attributes)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(validity, TimeSpan.Zero);
        ArgumentException.ThrowIfNullOrEmpty(organization);
        ArgumentException.ThrowIfNullOrEmpty(commonName);

        var subject = Name([(Oids.OrganizationName, organization), (Oids.CommonName, commonName), .. attributes]);

        var (request, generator) = key switch
        {
            RSA rsa => (new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
                X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1)),
            ECDsa ecdsa => (new CertificateRequest(subject, ecdsa, HashAlgorithmName.SHA256),
                X509SignatureGenerator.CreateForECDsa(ecdsa)),
            _ => throw new ArgumentException($"Only RSA and ECDsa keys are supported, not {key.GetType().Name}.", nameof(key)),
        };
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());

        // X.509 times have whole seconds: truncate here so the encoded span never exceeds validity.
        var start = notBefore.UtcDateTime;
        start = start.AddTicks(-(start.Ticks % TimeSpan.TicksPerSecond));
        var end = start + validity;
        end = end.AddTicks(-(end.Ticks % TimeSpan.TicksPerSecond));

        Span<byte> serial = stackalloc byte[SerialSize];
        RandomNumberGenerator.Fill(serial);
        // Positive and of full length, so the DER INTEGER needs no leading zero.
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);

        using var certificate = request.Create(subject, generator, start, end, serial);
        return certificate.RawData;
    }

    // Written by hand: X500DistinguishedNameBuilder puts the RDNs in reverse order of addition.
    private static X500DistinguishedName Name(ReadOnlySpan<(string Oid, string Value)> attributes)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            foreach (var (oid, value) in attributes)
            {
                using (writer.PushSetOf())
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(oid);
                    writer.WriteCharacterString(UniversalTagNumber.UTF8String, value);
                }
            }
        }
        return new X500DistinguishedName(writer.Encode());
    }
}
