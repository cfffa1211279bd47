using Paperclip.Fuzz.Targets;
using SharpFuzz;

namespace Paperclip.Fuzz;

/// <summary>
/// Fuzz targets for AFL++ (SharpFuzz). <c>fuzz.sh</c> beside this file instruments the build and
/// runs afl-fuzz on a target; see docs/reliability.md.
/// </summary>
internal static class Program
{
    private const string Usage = """
        Paperclip.Fuzz list                     the targets
        Paperclip.Fuzz afl TARGET               run TARGET under afl-fuzz (input on stdin)
        Paperclip.Fuzz run TARGET PATH...       replay files, or every file of folders; exit 1 at a finding
        Paperclip.Fuzz seed TARGET FOLDER       write TARGET's seed inputs into FOLDER
        """;

    private static int Main(string[] args)
    {
        switch (args)
        {
            case ["list"]:
                foreach (var target in FuzzTargets.All)
                    Console.WriteLine(target.Name);
                return 0;
            case ["afl", var name]:
                var fuzzed = FuzzTargets.Get(name);
                Fuzzer.OutOfProcess.Run(stream =>
                {
                    using var input = new MemoryStream();
                    stream.CopyTo(input);
                    fuzzed.Execute(input.GetBuffer().AsSpan(0, (int)input.Length));
                });
                return 0;
            case ["run", var name, .. var paths] when paths.Length > 0:
                return Replay(FuzzTargets.Get(name), paths);
            case ["seed", var name, var folder]:
                Directory.CreateDirectory(folder);
                var count = 0;
                foreach (var seed in Seeds.For(name))
                    File.WriteAllBytes(Path.Combine(folder, $"seed-{count++:D3}"), seed);
                Console.WriteLine($"{count} seeds for {name} in {folder}");
                return 0;
            default:
                Console.Error.WriteLine(Usage);
                return 2;
        }
    }

    private static int Replay(FuzzTarget target, string[] paths)
    {
        var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.EnumerateFiles(p) : [p]).Order(StringComparer.Ordinal).ToList();
        foreach (var file in files)
        {
            try
            {
                target.Execute(File.ReadAllBytes(file));
            }
#pragma warning disable CA1031 // Any exception is the finding to report.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Console.Error.WriteLine($"{target.Name}: finding in {file}:{Environment.NewLine}{e}");
                return 1;
            }
        }
        Console.WriteLine($"{target.Name}: {files.Count} inputs ran without a finding");
        return 0;
    }
}
