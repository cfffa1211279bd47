namespace Paperclip.Fuzz;

/// <summary>Runs one input through the code under test; returns normally unless there is a finding.</summary>
public delegate void FuzzAction(ReadOnlySpan<byte> input);

/// <summary>
/// One fuzz target: a small entry point over the real code. It throws <see cref="FindingException"/>
/// when the code broke one of its promises (an out-of-range result, a cap passed); any other
/// exception escaping it is a finding too, since every code path it calls promises false, a
/// status or a typed error instead.
/// </summary>
/// <param name="Name">The name used on the command line and as the corpus folder.</param>
/// <param name="BaseAllocation">Managed bytes one input may allocate, plus <paramref name="AllocationPerInputByte"/> per byte of it.</param>
/// <param name="AllocationPerInputByte">See <paramref name="BaseAllocation"/>: far above what the targets need, so only a blow-up trips it.</param>
/// <param name="Run">The entry point.</param>
public sealed record FuzzTarget(string Name, long BaseAllocation, long AllocationPerInputByte, FuzzAction Run)
{
    /// <summary>Runs <paramref name="input"/> and checks what it allocated (memory growing with a length field, not with the input).</summary>
    public void Execute(ReadOnlySpan<byte> input)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        Run(input);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        var cap = BaseAllocation + (AllocationPerInputByte * input.Length);
        if (allocated > cap)
            throw new FindingException($"{Name}: an input of {input.Length} B allocated {allocated:N0} B (cap {cap:N0} B).");
    }
}

/// <summary>The code under test broke a promise a target checks.</summary>
public sealed class FindingException(string message) : Exception(message);
