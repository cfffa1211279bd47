using System.Text.Json;

namespace Paperclip.Transport.Tests;

/// <summary>The independent implementation's test vectors (TestData/vectors.json, copied from the spec).</summary>
public static class Vectors
{
    private static readonly Lazy<JsonDocument> Document = new(() =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", "vectors.json"))));

    /// <summary>The root object.</summary>
    public static JsonElement Root => Document.Value.RootElement;

    /// <summary>The time at which the vector certificates are valid.</summary>
    public static DateTimeOffset CheckTime => DateTimeOffset.Parse(Root.GetProperty("check_time").GetString()!, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A hex string property as bytes.</summary>
    public static byte[] Hex(this JsonElement element, string property) => Convert.FromHexString(element.GetProperty(property).GetString()!);

    /// <summary>A base64 string property as bytes.</summary>
    public static byte[] Base64(this JsonElement element, string property) => Convert.FromBase64String(element.GetProperty(property).GetString()!);

    /// <summary>A string property.</summary>
    public static string Text(this JsonElement element, string property) => element.GetProperty(property).GetString()!;

    /// <summary>The entries of an array section, as xunit theory data (index, element).</summary>
    public static TheoryData<int> Indexes(string section)
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < Root.GetProperty(section).GetArrayLength(); i++)
            data.Add(i);
        return data;
    }

    /// <summary>Entry <paramref name="index"/> of an array section.</summary>
    public static JsonElement Entry(string section, int index) => Root.GetProperty(section)[index];
}
