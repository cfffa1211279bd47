using Paperclip.Fuzz.Targets;

namespace Paperclip.Fuzz.Tests;

/// <summary>
/// Every committed corpus (tools/Paperclip.Fuzz/corpus, minimised by fuzz.sh after each AFL++
/// run) replayed through its target, uninstrumented: what AFL++ once reached stays free of findings.
/// </summary>
public sealed class CorpusReplayTests
{
    public static TheoryData<string> Targets => new(FuzzTargets.All.Select(t => t.Name));

    [Theory]
    [MemberData(nameof(Targets))]
    public void The_committed_corpus_runs_without_a_finding(string name)
    {
        var files = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "corpus", name));
        Assert.NotEmpty(files);
        var target = FuzzTargets.Get(name);
        foreach (var file in files)
        {
            var input = File.ReadAllBytes(file);
            var finding = Record.Exception(() => target.Execute(input));
            Assert.True(finding is null, $"{Path.GetFileName(file)}: {finding}");
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void The_seeds_run_without_a_finding(string name)
    {
        var target = FuzzTargets.Get(name);
        var seeds = Seeds.For(name).ToList();
        Assert.NotEmpty(seeds);
        foreach (var (seed, index) in seeds.Select((s, i) => (s, i)))
        {
            var finding = Record.Exception(() => target.Execute(seed));
            Assert.True(finding is null, $"seed {index}: {finding}");
        }
    }

    [Fact]
    public void An_input_that_allocates_past_the_cap_is_a_finding()
    {
        var target = new FuzzTarget("allocates", 1 << 20, 0, _ => GC.KeepAlive(new byte[2 << 20]));
        var finding = Assert.Throws<FindingException>(() => target.Execute([]));
        Assert.Contains("allocated", finding.Message, StringComparison.Ordinal);
    }
}
