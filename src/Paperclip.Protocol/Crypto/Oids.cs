namespace Paperclip.Protocol.Crypto;

/// <summary>The object identifiers the key, signature and certificate formats use.</summary>
internal static class Oids
{
    public const string RsaEncryption = "1.2.840.113549.1.1.1";
    public const string Sha256WithRsaEncryption = "1.2.840.113549.1.1.11";
    public const string EcPublicKey = "1.2.840.10045.2.1";
    public const string EcdsaWithSha256 = "1.2.840.10045.4.3.2";
    public const string NistP256 = "1.2.840.10045.3.1.7";

    public const string Pbes2 = "1.2.840.113549.1.5.13";
    public const string Pbkdf2 = "1.2.840.113549.1.5.12";
    public const string HmacWithSha256 = "1.2.840.113549.2.9";
    public const string Aes256Cbc = "2.16.840.1.101.3.4.1.42";

    public const string OrganizationName = "2.5.4.10";
    public const string CommonName = "2.5.4.3";
    public const string UserId = "0.9.2342.19200300.100.1.1";
    public const string Pseudonym = "2.5.4.65";
}
