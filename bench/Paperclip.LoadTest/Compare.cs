namespace Paperclip.LoadTest;

/// <summary>
/// Every scenario for every implementation, the implementations interleaved (forward order on
/// even repetitions, reverse on odd ones) so that drift in the machine's load hits them alike;
/// with several repetitions each case reports the run with the median headline figure.
/// </summary>
internal static class Compare
{
    private static readonly ImplSpec[] All =
    [
        new(ImplKind.Paperclip, true),
        new(ImplKind.Paperclip, false),
        new(ImplKind.LiteNetLib, false),
        new(ImplKind.Raw, false),
    ];

    public static async Task<List<Result>> RunAsync(bool quick, int repeat, CancellationToken cancellationToken)
    {
        var seconds = quick ? 2.0 : 5.0;
        var warmup = quick ? 0.5 : 1.0;
        var cases = new List<(string Name, bool Reliable, Func<ImplSpec, Task<Result>> Run)>();
        foreach (var (size, reliable, loss) in new[] { (64, false, 0.0), (64, true, 0.0), (1000, false, 0.0), (1000, true, 0.0), (64, true, 0.05), (1000, true, 0.05) })
        {
            var settings = new ThroughputSettings(1, size, reliable, seconds, warmup, null, Loss: loss);
            cases.Add(($"throughput {size} B {(reliable ? "reliable" : "unreliable")}{(loss > 0 ? " 5% loss" : "")}", reliable, spec => Throughput.RunAsync(spec, settings, cancellationToken)));
        }
        var ccu = new CcuSettings(200, 20, 32, false, quick ? 3 : 10, 1);
        cases.Add(("ccu 200 × 20/s × 32 B", false, spec => Ccu.RunAsync(spec, ccu, cancellationToken)));
        if (!quick) // three more process pairs would push --quick well past a minute
        {
            var density = new DensitySettings(100, 2, 20, 32, false, 5, 1, 8, false);
            cases.Add(("density 100 × 2 × 20/s × 32 B", false, async spec => (await Density.RunAsync(spec, density, cancellationToken).ConfigureAwait(false))[0]));
        }
        var handshakes = new HandshakeSettings(quick ? 400 : 2000, 8, quick ? 10 : 30);
        cases.Add(("handshakes", false, spec => Handshakes.RunAsync(spec, handshakes, cancellationToken)));

        var results = new List<Result>();
        foreach (var (name, reliable, run) in cases)
        {
            var impls = All.Where(i => (!reliable || i.SupportsReliable) && (name.StartsWith("throughput", StringComparison.Ordinal) || i.Kind != ImplKind.Paperclip || i.Encrypted)).ToArray();
            var runs = impls.ToDictionary(i => i.Name, _ => new List<Result>());
            for (var r = 0; r < repeat; r++)
            {
                foreach (var spec in r % 2 == 0 ? impls : impls.Reverse())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    Result result;
                    try
                    {
                        result = await run(spec).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
                    {
                        Console.Error.WriteLine($"{name} / {spec.Name} failed: {e}");
                        result = new Result { Scenario = name.Split(' ')[0], Impl = spec.Name, Note = "failed: " + e.Message };
                    }
                    Console.WriteLine(Report.Line(result));
                    runs[spec.Name].Add(result);
                }
            }
            foreach (var spec in impls)
                results.Add(Median(runs[spec.Name]));
        }
        return results;
    }

    private static Result Median(List<Result> runs)
    {
        if (runs.Count == 1)
            return runs[0];
        var ordered = runs.OrderBy(r => double.IsNaN(r.Headline.Value) ? double.MinValue : r.Headline.Value).ToList();
        return ordered[ordered.Count / 2] with { Note = $"median of {runs.Count}" + (ordered[ordered.Count / 2].Note is { } n ? "; " + n : "") };
    }
}
