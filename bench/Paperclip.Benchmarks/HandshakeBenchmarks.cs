using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Paperclip.Protocol.Certificates;
using Paperclip.Protocol.Crypto;
using Paperclip.Transport;

namespace Paperclip.Benchmarks;

/// <summary>
/// The server's share of one handshake (protocol §5–§6), step by step and whole: what bounds
/// handshakes per second. Certificate keys are P-256, as the backend issues them; the ephemeral
/// keys are of either algorithm of §6.1 (X25519 is what version-2 clients use by default).
/// </summary>
[MemoryDiagnoser]
public class HandshakeBenchmarks : IDisposable
{
    private readonly byte[] _sharedSecret = new byte[EphemeralKey.SharedSecretSize];
    private readonly byte[] _clientAuth = RandomNumberGenerator.GetBytes(1200);
    private AsymmetricAlgorithm _accountKey = null!;
    private AsymmetricAlgorithm _serverKey = null!;
    private byte[] _accountPublicKey = [];
    private byte[] _certificate = [];
    private readonly CertificateValidationCache _validations = new();
    private EphemeralKey _clientEphemeral = null!;
    private EphemeralKey _serverEphemeral = null!;
    private byte[] _clientSignature = [];
    private DateTimeOffset _now;

    [Params(KeyAgreement.X25519, KeyAgreement.P256)]
    public KeyAgreement Agreement { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _now = DateTimeOffset.UtcNow;
        _accountKey = AccountKey.Generate();
        _serverKey = AccountKey.Generate();
        _accountPublicKey = AccountKey.ExportPublicKey(_accountKey);
        _certificate = AccountCertificate.Create(_accountKey, 42, "mario", _now.AddMinutes(-1), TimeSpan.FromHours(1));
        _clientEphemeral = EphemeralKey.Generate(Agreement);
        _serverEphemeral = EphemeralKey.Generate(Agreement);
        _clientSignature = AuthSignature.SignClient(_accountKey, _clientEphemeral.PublicKey);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _accountKey.Dispose();
        _serverKey.Dispose();
        _clientEphemeral.Dispose();
        _serverEphemeral.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark]
    public bool ValidateAccountCertificate() => AccountCertificate.Validate(_certificate, _accountPublicKey, _now);

    /// <summary>A reconnecting player: the certificate was verified under this key before (a hit).</summary>
    [Benchmark]
    public bool ValidateAccountCertificateCached() => _validations.Validate(_certificate, _accountPublicKey, _now);

    [Benchmark]
    public bool VerifyClientSignature() => AuthSignature.VerifyClient(_certificate, _clientEphemeral.PublicKey, _clientSignature);

    [Benchmark]
    public int GenerateEphemeralKey()
    {
        using var key = EphemeralKey.Generate(Agreement);
        return key.PublicKey.Length;
    }

    [Benchmark]
    public bool DeriveSharedSecret() => _serverEphemeral.TryDeriveSharedSecret(_clientEphemeral.PublicKey, _sharedSecret);

    [Benchmark]
    public int SignServerAuth() => AuthSignature.SignServer(_serverKey, _clientAuth, _serverEphemeral.PublicKey).Length;

    [Benchmark]
    public bool ServerHandshake() => Handshake(AccountCertificate.Validate(_certificate, _accountPublicKey, _now));

    /// <summary>The same for a reconnecting player: the certificate's validation is a cache hit.</summary>
    [Benchmark]
    public bool ServerHandshakeCached() => Handshake(_validations.Validate(_certificate, _accountPublicKey, _now));

    private bool Handshake(bool certificateValid)
    {
        if (!certificateValid || !AuthSignature.VerifyClient(_certificate, _clientEphemeral.PublicKey, _clientSignature))
            return false;
        using var ephemeral = EphemeralKey.Generate(Agreement);
        if (!ephemeral.TryDeriveSharedSecret(_clientEphemeral.PublicKey, _sharedSecret))
            return false;
        var signature = AuthSignature.SignServer(_serverKey, _clientAuth, ephemeral.PublicKey);
        Span<byte> transcript = stackalloc byte[32];
        SessionKeys.ComputeTranscriptHash(_clientAuth, signature, transcript);
        using var keys = SessionKeys.Derive(_sharedSecret, transcript);
        return true;
    }
}
