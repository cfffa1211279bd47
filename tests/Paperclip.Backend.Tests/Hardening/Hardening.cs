using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Paperclip.Backend.Tests.Hardening;

/// <summary>Settings of the hardening tests: the long variants run with <c>PAPERCLIP_LONG_TESTS=1</c>; <c>PAPERCLIP_SEED</c> fixes the seed.</summary>
public static class HardeningSettings
{
    /// <summary>True when the heavy variants run.</summary>
    public static bool LongRun => Environment.GetEnvironmentVariable("PAPERCLIP_LONG_TESTS") == "1";

    /// <summary>The seed of the random tests: <c>PAPERCLIP_SEED</c>, else <paramref name="fallback"/>.</summary>
    public static int Seed(int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable("PAPERCLIP_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed) ? seed : fallback;
}

/// <summary>The checks every hostile request's answer must pass.</summary>
public static class AnswerCheck
{
    /// <summary>Null when the answer is acceptable: never 5xx, every 4xx problem+json with its status and a title.</summary>
    public static async Task<string?> ProblemAsync(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var status = (int)response.StatusCode;
        var text = await response.Content.ReadAsStringAsync();
        if (status >= 500)
        {
            return $"{status}: {Snip(text)}";
        }

        if (status < 400)
        {
            return null;
        }

        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType != "application/problem+json")
        {
            return $"{status} with Content-Type '{mediaType}': {Snip(text)}";
        }

        try
        {
            var body = JsonDocument.Parse(text).RootElement;
            if (!body.TryGetProperty("status", out var s) || s.ValueKind != JsonValueKind.Number || s.GetInt32() != status)
            {
                return $"{status} whose problem has no matching 'status': {Snip(text)}";
            }

            if (!body.TryGetProperty("title", out var t) || t.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(t.GetString()))
            {
                return $"{status} whose problem has no 'title': {Snip(text)}";
            }
        }
        catch (JsonException)
        {
            return $"{status} whose problem+json is not JSON: {Snip(text)}";
        }

        return null;
    }

    /// <summary>The start of a text, for messages.</summary>
    public static string Snip(string text, int length = 200) =>
        text.Length <= length ? text : string.Concat(text.AsSpan(0, length), $"…({text.Length} chars)");

    /// <summary>A byte body shown printably, for messages.</summary>
    public static string Show(byte[]? body)
    {
        if (body is null)
        {
            return "<no body>";
        }

        var builder = new StringBuilder();
        foreach (var b in body.AsSpan(0, Math.Min(body.Length, 160)))
        {
            builder.Append(b is >= 0x20 and < 0x7f ? (char)b : $"\\x{b:x2}");
        }

        if (body.Length > 160)
        {
            builder.Append(CultureInfo.InvariantCulture, $"…({body.Length} bytes)");
        }

        return builder.ToString();
    }

    /// <summary>Fails with the distinct failures found (at most 25 shown).</summary>
    public static void NoFailures(IReadOnlyCollection<string> failures, int requests)
    {
        ArgumentNullException.ThrowIfNull(failures);
        if (failures.Count == 0)
        {
            return;
        }

        var distinct = failures.Distinct(StringComparer.Ordinal).ToList();
        Assert.Fail($"{failures.Count} of {requests} hostile requests failed the checks ({distinct.Count} distinct):\n" +
            string.Join("\n", distinct.Take(25)));
    }
}
