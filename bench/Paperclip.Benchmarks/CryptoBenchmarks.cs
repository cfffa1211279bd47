using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Paperclip.Protocol;
using Paperclip.Protocol.Crypto;

namespace Paperclip.Benchmarks;

/// <summary>The record layer's cryptography: AES-256-GCM seal and open, and the replay window. No allocation allowed.</summary>
[MemoryDiagnoser]
public class CryptoBenchmarks : IDisposable
{
    private PacketProtection _sender = null!;
    private PacketProtection _receiver = null!;
    private readonly ReplayWindow _window = new();
    private byte[] _datagram = [];
    private int _headerLength;
    private int _plaintextLength;
    private ulong _packetNumber;

    /// <summary>Bytes of the whole sealed datagram: header, data and tag.</summary>
    [Params(64, 1200)]
    public int DatagramSize { get; set; }

    /// <summary>libsodium (the default where AES-NI is) or .NET's AesGcm (the fallback), side by side.</summary>
    [Params(AeadBackend.Sodium, AeadBackend.DotNet)]
    public AeadBackend Backend { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var key = RandomNumberGenerator.GetBytes(PacketProtection.KeySize);
        var iv = RandomNumberGenerator.GetBytes(PacketProtection.IvSize);
        _sender = new PacketProtection(key, iv, Backend);
        _receiver = new PacketProtection(key, iv, Backend);
        var header = PacketHeader.Create(PacketType.Default, PacketFlags.Encrypted | PacketFlags.Reliable, 1);
        _datagram = new byte[DatagramSize];
        _headerLength = PacketWriter.WriteHeader(_datagram, header);
        _plaintextLength = DatagramSize - _headerLength - ProtocolConstants.TagSize;
        RandomNumberGenerator.Fill(_datagram.AsSpan(_headerLength, _plaintextLength));
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _sender.Dispose();
        _receiver.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark]
    public bool SealAndOpen()
    {
        var pn = _packetNumber++;
        _sender.Seal(_datagram, _headerLength, _plaintextLength, pn);
        return _receiver.TryOpen(_datagram, _headerLength, pn, out _);
    }

    [Benchmark]
    public bool ReplayCheckAndRecord()
    {
        var pn = _packetNumber++;
        if (!_window.IsFresh(pn))
            return false;
        _window.Record(pn);
        return true;
    }
}
