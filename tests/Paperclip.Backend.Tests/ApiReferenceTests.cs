using System.Net;
using Paperclip.Backend.Tests.Infrastructure;

namespace Paperclip.Backend.Tests;

/// <summary>The interactive API reference at /docs: on in Development, off in production unless configured.</summary>
public sealed class ApiReferenceTests
{
    [Fact]
    public async Task Development_serves_the_reference_page_with_its_own_script_and_the_document()
    {
        await using var factory = await PaperclipFactory.CreateAsync(Db.Sqlite, environment: "Development");
        using var client = factory.CreateClient();
        using var page = await client.GetAsync("/docs");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        // The page loads the served document (its script resolves this against the application's base path).
        Assert.Contains("\"url\":\"openapi/v1.json\"", html, StringComparison.Ordinal);

        // The page's script is served by the server itself (no CDN: self-hosted servers may be offline).
        var script = ScriptSource(html);
        Assert.False(script.StartsWith("http", StringComparison.OrdinalIgnoreCase), script);
        using var asset = await client.GetAsync(new Uri(new Uri(client.BaseAddress!, "/docs/"), script));
        Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
        Assert.Contains("javascript", asset.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        Assert.True((await asset.Content.ReadAsByteArrayAsync()).Length > 100_000);
    }

    [Theory]
    [InlineData(null, HttpStatusCode.NotFound)]
    [InlineData("true", HttpStatusCode.OK)]
    public async Task Production_serves_the_reference_only_when_configured(string? setting, HttpStatusCode expected)
    {
        await using var factory = await PaperclipFactory.CreateAsync(Db.Sqlite, s => s["Paperclip:ApiReference"] = setting, environment: "Production");
        using var client = factory.CreateClient();
        using var page = await client.GetAsync("/docs");
        Assert.Equal(expected, page.StatusCode);
        using var document = await client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
    }

    private static string ScriptSource(string html)
    {
        const string marker = "<script src=\"";
        var start = html.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(start >= 0, "The page has no <script src>: " + html);
        start += marker.Length;
        return html[start..html.IndexOf('"', start)];
    }
}
