using System.Net;
using System.Security.Cryptography;
using Paperclip.Protocol.Certificates;

namespace Paperclip.Transport.Tests;

/// <summary>A server key and certificate and some accounts, made fresh per test run.</summary>
public sealed class TestPki
{
    public static readonly TestPki Shared = new();

    private TestPki()
    {
        ServerKey = AccountKey.Generate();
        ServerPublicKey = AccountKey.ExportPublicKey(ServerKey);
        ServerCertificate = Paperclip.Protocol.Certificates.ServerCertificate.Create(ServerKey, DateTimeOffset.UtcNow.AddMinutes(-5), TimeSpan.FromDays(2));
    }

    public AsymmetricAlgorithm ServerKey { get; }

    public byte[] ServerPublicKey { get; }

    public byte[] ServerCertificate { get; }

    /// <summary>A new account with its key pair and a certificate valid now, registered with <paramref name="validator"/>.</summary>
    public static TestAccount Account(long id, KnownKeysCertificateValidator? validator, string? name = null, DateTimeOffset? now = null)
    {
        var key = AccountKey.Generate();
        var certificate = AccountCertificate.Create(key, id, name ?? $"player{id}", (now ?? DateTimeOffset.UtcNow).AddMinutes(-5), TimeSpan.FromHours(12));
        validator?.Add(id, AccountKey.ExportPublicKey(key));
        return new TestAccount(id, name ?? $"player{id}", key, certificate);
    }

    public PaperclipServerOptions ServerOptions(ICertificateValidator validator, Action<PaperclipServerOptions>? configure = null)
    {
        var options = new PaperclipServerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            Certificate = ServerCertificate,
            PrivateKey = ServerKey,
            CertificateValidator = validator,
            CookieMode = CookieMode.Off,
        };
        configure?.Invoke(options);
        return options;
    }

    public PaperclipClientOptions ClientOptions(TestAccount account, Action<PaperclipClientOptions>? configure = null)
    {
        var options = new PaperclipClientOptions
        {
            Certificate = account.Certificate,
            PrivateKey = account.Key,
            ServerPublicKey = ServerPublicKey,
            HandshakeTimeout = TimeSpan.FromSeconds(5),
        };
        configure?.Invoke(options);
        return options;
    }
}

public sealed record TestAccount(long Id, string Username, AsymmetricAlgorithm Key, byte[] Certificate);
