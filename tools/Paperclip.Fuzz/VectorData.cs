using System.Globalization;
using System.Text.Json;

namespace Paperclip.Fuzz;

/// <summary>
/// The protocol's test vectors (the copy the protocol tests use, copied beside the program):
/// the keys the AUTH and certificate targets check against, and the seeds.
/// </summary>
public static class VectorData
{
    private static readonly Lazy<JsonElement> Document = new(() =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "vectors.json"))).RootElement);

    public static JsonElement Root => Document.Value;

    /// <summary>The time at which the vector certificates are valid.</summary>
    public static DateTimeOffset CheckTime => DateTimeOffset.Parse(Root.GetProperty("check_time").GetString()!, CultureInfo.InvariantCulture);

    /// <summary>The account's registered public key (SPKI DER).</summary>
    public static byte[] AccountPublicKey => Base64("account", "public_key_spki_b64");

    /// <summary>The backend's server public key (SPKI DER).</summary>
    public static byte[] ServerPublicKey => Base64("server", "public_key_spki_b64");

    /// <summary>The account's password, which encrypts its PKCS#8 key.</summary>
    public static string AccountPassword => Root.GetProperty("account").GetProperty("password").GetString()!;

    public static byte[] Base64(string section, string property) =>
        Convert.FromBase64String(Root.GetProperty(section).GetProperty(property).GetString()!);

    public static byte[] Hex(string section, string property) =>
        Convert.FromHexString(Root.GetProperty(section).GetProperty(property).GetString()!);

    /// <summary>The hex strings named <paramref name="property"/> of each entry of an array section.</summary>
    public static IEnumerable<byte[]> HexEntries(string section, string property) =>
        Root.GetProperty(section).EnumerateArray().Select(e => Convert.FromHexString(e.GetProperty(property).GetString()!));
}
