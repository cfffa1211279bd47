namespace Paperclip.Client.Commands;

/// <summary>A mistake in the command line: the message says what, and the exit code is 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// The parsed command line: the words (the command and its arguments) and the options, which
/// may stand anywhere: <c>--name value</c>, <c>--name=value</c>, or a flag.
/// </summary>
internal sealed class CommandLine
{
    private static readonly HashSet<string> ValueOptions = new(StringComparer.Ordinal)
    {
        "server", "user", "password", "game", "choices", "timeout",
    };

    private static readonly HashSet<string> FlagOptions = new(StringComparer.Ordinal)
    {
        "help", "version", "plain",
    };

    private readonly Dictionary<string, string> _options;
    private readonly HashSet<string> _flags;

    private CommandLine(List<string> words, Dictionary<string, string> options, HashSet<string> flags)
    {
        Words = words;
        _options = options;
        _flags = flags;
    }

    /// <summary>The command and its arguments, in order.</summary>
    public IReadOnlyList<string> Words { get; }

    /// <summary>Parses <paramref name="args"/>.</summary>
    /// <exception cref="UsageException">An unknown option, or an option without its value.</exception>
    public static CommandLine Parse(IReadOnlyList<string> args)
    {
        var words = new List<string>();
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        var flags = new HashSet<string>(StringComparer.Ordinal);
        var onlyWords = false;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (onlyWords || arg.Length < 2 || arg[0] != '-')
            {
                words.Add(arg);
                continue;
            }
            if (arg == "--")
            {
                onlyWords = true;
                continue;
            }
            if (arg is "-h" or "-?")
            {
                flags.Add("help");
                continue;
            }
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (char.IsAsciiDigit(arg[1]))
                {
                    words.Add(arg); // a negative number is a word
                    continue;
                }
                throw new UsageException($"Unknown option '{arg}'.");
            }
            var name = arg[2..];
            string? value = null;
            var equals = name.IndexOf('=', StringComparison.Ordinal);
            if (equals >= 0)
            {
                value = name[(equals + 1)..];
                name = name[..equals];
            }
            name = name.ToLowerInvariant();
            if (FlagOptions.Contains(name))
            {
                if (value is not null)
                    throw new UsageException($"The option --{name} takes no value.");
                flags.Add(name);
                continue;
            }
            if (!ValueOptions.Contains(name))
                throw new UsageException($"Unknown option '--{name}'.");
            if (value is null)
            {
                if (i + 1 >= args.Count)
                    throw new UsageException($"The option --{name} needs a value.");
                value = args[++i];
            }
            options[name] = value;
        }
        return new CommandLine(words, options, flags);
    }

    /// <summary>The value of <c>--name</c>, or null.</summary>
    public string? Option(string name) => _options.GetValueOrDefault(name);

    /// <summary>True when the flag <c>--name</c> was given.</summary>
    public bool Flag(string name) => _flags.Contains(name);

    /// <summary>The word at <paramref name="index"/>, or null.</summary>
    public string? Word(int index) => index < Words.Count ? Words[index] : null;
}
