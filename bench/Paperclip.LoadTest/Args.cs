using System.Globalization;

namespace Paperclip.LoadTest;

/// <summary><c>verb --name value --flag …</c>; a name given without a value is a flag.</summary>
internal sealed class Args
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public Args(IReadOnlyList<string> args)
    {
        Verb = args.Count > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "help";
        for (var i = Verb == "help" ? 0 : 1; i < args.Count; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
                throw new ArgumentException($"Unexpected argument '{args[i]}'.");
            var name = args[i][2..];
            string? value = null;
            if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                value = args[++i];
            _values[name] = value;
        }
    }

    public string Verb { get; }

    public bool Flag(string name)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out var value) && value is null or "true" or "on" or "yes";
    }

    public string? String(string name, string? fallback = null)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out var value) && value is not null ? value : fallback;
    }

    public int Int(string name, int fallback) => String(name) is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : fallback;

    public double Double(string name, double fallback) => String(name) is { } s ? double.Parse(s, CultureInfo.InvariantCulture) : fallback;

    /// <summary>on/off for a switch that defaults to <paramref name="fallback"/>.</summary>
    public bool OnOff(string name, bool fallback)
    {
        _used.Add(name);
        if (!_values.TryGetValue(name, out var value))
            return fallback;
        return value switch
        {
            null or "on" or "true" or "yes" => true,
            "off" or "false" or "no" => false,
            _ => throw new ArgumentException($"--{name} takes on or off."),
        };
    }

    /// <summary>Throws for an option no code asked for (a typo).</summary>
    public void RejectUnknown()
    {
        var unknown = _values.Keys.Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"Unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}.");
    }
}
