namespace Paperclip.Transport.Tests.Hardening;

/// <summary>Sizes of the scenarios: the fast variants by default, the full ones with <c>PAPERCLIP_LONG_TESTS=1</c>.</summary>
internal static class LongTests
{
    public static bool Enabled => Environment.GetEnvironmentVariable("PAPERCLIP_LONG_TESTS") == "1";

    public static int Pick(int fast, int full) => Enabled ? full : fast;

    public static void Report(string line)
    {
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        var file = Environment.GetEnvironmentVariable("PAPERCLIP_FIGURES");
        if (!string.IsNullOrEmpty(file))
            File.AppendAllText(file, $"{DateTime.UtcNow:O} {TestContext.Current.TestCase?.TestMethodName}: {line}{Environment.NewLine}");
    }
}

/// <summary>Tests that measure the managed heap or need the machine to themselves run alone, after the others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class Alone
{
    public const string Name = "alone";
}
