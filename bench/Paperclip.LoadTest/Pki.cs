using System.Globalization;
using System.Security.Cryptography;
using Paperclip.Protocol.Certificates;
using Paperclip.Transport;

namespace Paperclip.LoadTest;

internal sealed record Account(long Id, AsymmetricAlgorithm Key, byte[] Certificate);

/// <summary>
/// Keys and certificates for one run: the server's key pair and certificate, and accounts the
/// server's validator knows. A child process gets the accounts and the server public key through
/// a file (<see cref="Save"/> / <see cref="Load"/>); keys are made before any timing starts.
/// </summary>
internal sealed class Pki : IDisposable
{
    private Pki(AsymmetricAlgorithm? serverKey, byte[]? serverCertificate, byte[] serverPublicKey, Account[] accounts)
    {
        ServerKey = serverKey;
        ServerCertificate = serverCertificate;
        ServerPublicKey = serverPublicKey;
        Accounts = accounts;
    }

    public AsymmetricAlgorithm? ServerKey { get; }

    public byte[]? ServerCertificate { get; }

    public byte[] ServerPublicKey { get; }

    public IReadOnlyList<Account> Accounts { get; }

    public static Pki Create(int accounts)
    {
        var now = DateTimeOffset.UtcNow;
        var serverKey = AccountKey.Generate();
        var serverCertificate = Protocol.Certificates.ServerCertificate.Create(serverKey, now.AddMinutes(-5), TimeSpan.FromDays(1));
        var list = new Account[Math.Max(1, accounts)];
        for (var i = 0; i < list.Length; i++)
        {
            var key = AccountKey.Generate();
            list[i] = new Account(i + 1, key, AccountCertificate.Create(key, i + 1, $"load{i + 1}", now.AddMinutes(-5), TimeSpan.FromHours(12)));
        }
        return new Pki(serverKey, serverCertificate, AccountKey.ExportPublicKey(serverKey), list);
    }

    public KnownKeysCertificateValidator CreateValidator()
    {
        var validator = new KnownKeysCertificateValidator();
        foreach (var account in Accounts)
            validator.Add(account.Id, AccountKey.ExportPublicKey(account.Key));
        return validator;
    }

    /// <summary>Writes what a client process needs: the server public key and the accounts with their private keys.</summary>
    public void Save(string path)
    {
        using var writer = new StreamWriter(path);
        writer.WriteLine(Convert.ToBase64String(ServerPublicKey));
        foreach (var account in Accounts)
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{account.Id} {Convert.ToBase64String(account.Key.ExportPkcs8PrivateKey())} {Convert.ToBase64String(account.Certificate)}"));
    }

    public static Pki Load(string path)
    {
        var lines = File.ReadAllLines(path);
        var accounts = new List<Account>();
        foreach (var line in lines.Skip(1))
        {
            var parts = line.Split(' ');
            var key = ECDsa.Create();
            key.ImportPkcs8PrivateKey(Convert.FromBase64String(parts[1]), out _);
            accounts.Add(new Account(long.Parse(parts[0], CultureInfo.InvariantCulture), key, Convert.FromBase64String(parts[2])));
        }
        return new Pki(null, null, Convert.FromBase64String(lines[0]), [.. accounts]);
    }

    public void Dispose()
    {
        ServerKey?.Dispose();
        foreach (var account in Accounts)
            account.Key.Dispose();
    }
}
