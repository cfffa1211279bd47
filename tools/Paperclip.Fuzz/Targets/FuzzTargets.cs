namespace Paperclip.Fuzz.Targets;

/// <summary>Every fuzz target, by name.</summary>
public static class FuzzTargets
{
    // Per input: room for the targets' own buffers (the 256 KB inflate cap twice) plus a few
    // copies of the input (the certificate target base64-encodes it as UTF-16 and copies it).
    private const long BaseAllocation = 4 << 20;
    private const long AllocationPerInputByte = 64;

    public static readonly IReadOnlyList<FuzzTarget> All =
    [
        new("packet", BaseAllocation, AllocationPerInputByte, PacketTarget.Run),
        new("batch", BaseAllocation, AllocationPerInputByte, BatchTarget.Run),
        new("reassembly", BaseAllocation, AllocationPerInputByte, ReassemblyTarget.Run),
        new("inflate", BaseAllocation, AllocationPerInputByte, InflateTarget.Run),
        new("auth", BaseAllocation, AllocationPerInputByte, AuthTarget.Run),
        new("handshake", BaseAllocation, AllocationPerInputByte, HandshakeTarget.Run),
        new("certificate", BaseAllocation, AllocationPerInputByte, CertificateTarget.Run),
        new("spki", BaseAllocation, AllocationPerInputByte, SpkiTarget.Run),
        new("pkcs8", BaseAllocation, AllocationPerInputByte, Pkcs8Target.Run),
        new("rest", BaseAllocation, AllocationPerInputByte, RestTarget.Run),
    ];

    public static FuzzTarget Get(string name) =>
        All.FirstOrDefault(t => t.Name == name) ?? throw new ArgumentException($"No target '{name}' (targets: {string.Join(", ", All.Select(t => t.Name))}).", nameof(name));
}
