namespace Paperclip.Backend.Tests.Infrastructure;

/// <summary>
/// The real-process cluster tests: a fast subset runs by default; <c>PAPERCLIP_CLUSTER_TESTS=1</c>
/// runs every one at full size (docs/scaling.md, "Fault tests").
/// </summary>
public static class ClusterTestSettings
{
    /// <summary>True when every cluster test runs at full size.</summary>
    public static bool Full => Environment.GetEnvironmentVariable("PAPERCLIP_CLUSTER_TESTS") == "1";

    /// <summary>Skips a test of the full set unless <c>PAPERCLIP_CLUSTER_TESTS=1</c>.</summary>
    public static void RequireFull() =>
        Assert.SkipUnless(Full, "A long real-process cluster test: set PAPERCLIP_CLUSTER_TESTS=1 to run it.");
}
