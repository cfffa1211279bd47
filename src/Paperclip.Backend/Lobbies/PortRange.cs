using System.Globalization;

namespace Paperclip.Backend.Lobbies;

/// <summary>An inclusive range of UDP ports, written <c>first-last</c> (or one port).</summary>
/// <param name="First">The first port.</param>
/// <param name="Last">The last port.</param>
public readonly record struct PortRange(int First, int Last)
{
    /// <summary>How many ports the range holds.</summary>
    public int Count => Last - First + 1;

    /// <summary>Parses <c>first-last</c>.</summary>
    public static PortRange Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split('-', 2, StringSplitOptions.TrimEntries);
        if (!int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
            || !int.TryParse(parts.Length == 2 ? parts[1] : parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var last)
            || first < 1 || last > 65535 || last < first)
        {
            throw new FormatException($"Invalid port range '{text}': expected first-last within 1-65535.");
        }

        return new PortRange(first, last);
    }
}
