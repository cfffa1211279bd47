using System.Reflection;
using Spectre.Console.Cli;

namespace Paperclip.Client.Commands;

/// <summary>
/// Lets the connection options stand before the command, as in
/// <c>paperclip --user Mario --password … friends list</c>: Spectre.Console.Cli reads options
/// after the command that declares them, so this moves them there. The options it moves are
/// those <see cref="ConnectionSettings"/> declares, read from its attributes.
/// </summary>
internal static class LeadingOptions
{
    private static readonly Dictionary<string, bool> TakesValue = typeof(ConnectionSettings)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Select(p => (Property: p, Option: p.GetCustomAttribute<CommandOptionAttribute>()))
        .Where(o => o.Option is not null)
        .SelectMany(o => o.Option!.LongNames.Select(name => (Name: "--" + name, Value: o.Property.PropertyType != typeof(bool))))
        .ToDictionary(o => o.Name, o => o.Value, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// <paramref name="args"/> with the connection options found before the first other word
    /// moved after the rest (before a <c>--</c>); unchanged without a command, where the
    /// interactive mode takes them as they are.
    /// </summary>
    public static IReadOnlyList<string> MoveAfterCommand(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var leading = 0;
        while (leading < args.Count && OptionLength(args, leading) is var length and > 0)
            leading += length;
        if (leading == 0 || leading == args.Count)
            return args;

        var rest = args.Skip(leading).ToList();
        var end = rest.IndexOf("--");
        rest.InsertRange(end < 0 ? rest.Count : end, args.Take(leading));
        return rest;
    }

    // How many arguments the connection option at args[index] spans (0: it is none, or its value is missing).
    private static int OptionLength(IReadOnlyList<string> args, int index)
    {
        var arg = args[index];
        var equals = arg.IndexOf('=', StringComparison.Ordinal);
        if (!TakesValue.TryGetValue(equals < 0 ? arg : arg[..equals], out var takesValue))
            return 0;
        if (!takesValue || equals >= 0)
            return 1;
        return index + 1 < args.Count ? 2 : 0;
    }
}
