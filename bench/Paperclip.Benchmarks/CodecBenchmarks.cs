using BenchmarkDotNet.Attributes;
using Paperclip.Protocol;

namespace Paperclip.Benchmarks;

/// <summary>The header codec and CRC on the packet path: no allocation allowed.</summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private readonly byte[] _datagram = new byte[1200];
    private readonly byte[] _payload = new byte[1200];
    private PacketHeader _header;

    [GlobalSetup]
    public void Setup()
    {
        Random.Shared.NextBytes(_payload);
        _header = PacketHeader.Create(PacketType.Default, PacketFlags.Reliable | PacketFlags.Checksum | PacketFlags.Encrypted | PacketFlags.Frag, 4242);
        _header.FragmentId = 3;
        _header.FragmentCount = 9;
        _header.PacketNumber = 123_456;
        _header.Checksum = 0xDEADBEEF;
        PacketWriter.WriteHeader(_datagram, _header);
    }

    [Benchmark]
    public int WriteHeader() => PacketWriter.WriteHeader(_datagram, _header);

    [Benchmark]
    public int ReadHeader() => PacketReader.TryRead(_datagram, out var header, out _) ? header.Length : -1;

    [Benchmark]
    [Arguments(64)]
    [Arguments(1200)]
    public uint Crc32(int length) => Checksum.Compute(_payload.AsSpan(0, length));
}
