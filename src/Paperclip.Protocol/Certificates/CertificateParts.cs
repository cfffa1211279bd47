using System.Diagnostics.CodeAnalysis;
using System.Formats.Asn1;
using Paperclip.Protocol.Crypto;

namespace Paperclip.Protocol.Certificates;

/// <summary>
/// The fields of an X.509 v3 certificate that the protocol checks, read straight from the DER
/// (RFC 5280 §4.1), so a signature can be verified with an explicitly given key rather than
/// through a chain.
/// </summary>
internal sealed class CertificateParts
{
    private CertificateParts() { }

    /// <summary>The encoded TBSCertificate: the signed bytes.</summary>
    public ReadOnlyMemory<byte> Tbs { get; private init; }

    /// <summary>The outer signature algorithm OID (equal to the one inside the TBS).</summary>
    public string SignatureAlgorithm { get; private init; } = "";

    /// <summary>The signature value.</summary>
    public ReadOnlyMemory<byte> Signature { get; private init; }

    /// <summary>The encoded SubjectPublicKeyInfo.</summary>
    public ReadOnlyMemory<byte> SubjectPublicKeyInfo { get; private init; }

    /// <summary>Start of validity.</summary>
    public DateTimeOffset NotBefore { get; private init; }

    /// <summary>End of validity.</summary>
    public DateTimeOffset NotAfter { get; private init; }

    /// <summary>Number of UID attributes in the subject.</summary>
    public int UserIdCount { get; private init; }

    /// <summary>The subject's UID, when it has exactly one.</summary>
    public string? UserId { get; private init; }

    /// <summary>The subject's pseudonym, when it has exactly one.</summary>
    public string? Pseudonym { get; private init; }

    /// <summary>Parses a DER certificate. False, never an exception, for anything that is not one.</summary>
    public static bool TryParse(ReadOnlySpan<byte> certificateDer, [NotNullWhen(true)] out CertificateParts? parts)
    {
        parts = null;
        try
        {
            parts = Parse(certificateDer.ToArray());
        }
        catch (AsnContentException)
        {
        }
        return parts is not null;
    }

    /// <summary>
    /// The subject's public key (SubjectPublicKeyInfo DER) of a DER certificate, read in place
    /// without copying the certificate or decoding its names: for a signature check on a
    /// certificate that was parsed and validated already. False, never an exception, when the
    /// structure up to the key is not a certificate's.
    /// </summary>
    public static bool TryReadSubjectPublicKeyInfo(ReadOnlySpan<byte> certificateDer, out ReadOnlySpan<byte> subjectPublicKeyInfo)
    {
        subjectPublicKeyInfo = default;
        try
        {
            AsnDecoder.ReadSequence(certificateDer, AsnEncodingRules.DER, out var offset, out var length, out var consumed);
            if (consumed != certificateDer.Length)
                return false;
            var certificate = certificateDer.Slice(offset, length);
            AsnDecoder.ReadSequence(certificate, AsnEncodingRules.DER, out offset, out length, out _);
            var fields = certificate.Slice(offset, length);
            // version [0], serialNumber, signature, issuer, validity, subject: then the key.
            AsnDecoder.ReadEncodedValue(fields, AsnEncodingRules.DER, out _, out _, out consumed);
            if (fields[0] != 0xA0)
                return false;
            for (var field = 0; field < 6; field++)
            {
                fields = fields[consumed..];
                AsnDecoder.ReadEncodedValue(fields, AsnEncodingRules.DER, out _, out _, out consumed);
            }
            if (fields[0] != 0x30)
                return false;
            subjectPublicKeyInfo = fields[..consumed];
            return true;
        }
        catch (AsnContentException)
        {
            return false;
        }
    }

    /// <summary>True when the certificate's signature verifies with <paramref name="subjectPublicKeyInfo"/>.</summary>
    public bool IsSignedBy(ReadOnlySpan<byte> subjectPublicKeyInfo) =>
        Signatures.Verify(subjectPublicKeyInfo, Tbs.Span, Signature.Span, SignatureAlgorithm);

    /// <summary>True when <paramref name="now"/> lies within the validity, both ends included.</summary>
    public bool IsValidAt(DateTimeOffset now) => NotBefore <= now && now <= NotAfter;

    private static CertificateParts? Parse(byte[] der)
    {
        var memory = new ReadOnlyMemory<byte>(der);
        var outer = new AsnReader(memory, AsnEncodingRules.DER);
        var certificate = outer.ReadSequence();
        outer.ThrowIfNotEmpty();

        var tbs = certificate.ReadEncodedValue();
        var signatureAlgorithm = certificate.ReadEncodedValue();
        var signature = certificate.ReadBitString(out var unusedBits);
        certificate.ThrowIfNotEmpty();
        if (unusedBits != 0)
            return null;

        var fields = new AsnReader(tbs, AsnEncodingRules.DER).ReadSequence();
        var version = fields.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0));
        if (!version.TryReadInt32(out var v) || v != 2)
            return null;
        version.ThrowIfNotEmpty();
        fields.ReadIntegerBytes();
        var innerAlgorithm = fields.ReadEncodedValue();
        // RFC 5280 §4.1.1.2: the signed algorithm must be the one used.
        if (!innerAlgorithm.Span.SequenceEqual(signatureAlgorithm.Span))
            return null;
        fields.ReadEncodedValue(); // issuer
        var validity = fields.ReadSequence();
        var notBefore = ReadTime(validity);
        var notAfter = ReadTime(validity);
        validity.ThrowIfNotEmpty();
        var subject = ReadAttributes(fields.ReadSequence());
        var spki = fields.ReadEncodedValue();
        // Unique ids and extensions: checked for well-formedness only.
        while (fields.HasData)
            fields.ReadEncodedValue();

        var algorithm = new AsnReader(signatureAlgorithm, AsnEncodingRules.DER).ReadSequence().ReadObjectIdentifier();
        var userIds = subject.Where(a => a.Oid == Oids.UserId).ToList();
        var pseudonyms = subject.Where(a => a.Oid == Oids.Pseudonym).ToList();
        return new CertificateParts
        {
            Tbs = tbs,
            SignatureAlgorithm = algorithm,
            Signature = signature,
            SubjectPublicKeyInfo = spki,
            NotBefore = notBefore,
            NotAfter = notAfter,
            UserIdCount = userIds.Count,
            UserId = userIds.Count == 1 ? userIds[0].Value : null,
            Pseudonym = pseudonyms.Count == 1 ? pseudonyms[0].Value : null,
        };
    }

    private static DateTimeOffset ReadTime(AsnReader reader) =>
        reader.PeekTag().HasSameClassAndValue(Asn1Tag.UtcTime) ? reader.ReadUtcTime() : reader.ReadGeneralizedTime();

    // Name ::= SEQUENCE OF SET OF AttributeTypeAndValue.
    private static List<(string Oid, string? Value)> ReadAttributes(AsnReader name)
    {
        var attributes = new List<(string, string?)>();
        while (name.HasData)
        {
            var rdn = name.ReadSetOf();
            while (rdn.HasData)
            {
                var attribute = rdn.ReadSequence();
                var oid = attribute.ReadObjectIdentifier();
                var tag = attribute.PeekTag();
                string? value = null;
                if (tag.TagClass == TagClass.Universal && IsString((UniversalTagNumber)tag.TagValue))
                    value = attribute.ReadCharacterString((UniversalTagNumber)tag.TagValue);
                else
                    attribute.ReadEncodedValue();
                attribute.ThrowIfNotEmpty();
                attributes.Add((oid, value));
            }
        }
        return attributes;
    }

    // The string types AsnReader decodes; any other value (UniversalString included) reads as null.
    private static bool IsString(UniversalTagNumber tag) => tag is UniversalTagNumber.UTF8String
        or UniversalTagNumber.PrintableString or UniversalTagNumber.IA5String or UniversalTagNumber.BMPString
        or UniversalTagNumber.T61String or UniversalTagNumber.VisibleString or UniversalTagNumber.NumericString;
}
