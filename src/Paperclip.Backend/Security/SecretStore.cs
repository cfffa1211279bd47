using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Paperclip.Backend.Security;

/// <summary>
/// Loads the backend's secrets from configuration, or generates them once at first start into
/// <c>{DataDirectory}/secrets/</c> with owner-only permissions. Nothing here is a constant.
/// </summary>
public sealed partial class SecretStore
{
    /// <summary>The generated JWT signing secret's file name.</summary>
    public const string SigningKeyFile = "jwt-signing.key";

    /// <summary>The generated server key's file name (PKCS#8 PEM).</summary>
    public const string ServerKeyFile = "server-key.pem";

    /// <summary>The shortest JWT signing secret accepted (256 bits).</summary>
    public const int MinimumSigningKeyBytes = 32;

    private readonly PaperclipOptions _options;
    private readonly ILogger<SecretStore> _logger;

    /// <summary>Creates the store.</summary>
    public SecretStore(IOptions<PaperclipOptions> options, ILogger<SecretStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>The folder of generated secrets.</summary>
    public string SecretsDirectory => Path.Combine(_options.ResolvedDataDirectory, "secrets");

    /// <summary>The JWT signing secret (≥ 32 bytes).</summary>
    public byte[] LoadSigningKey()
    {
        var configured = _options.Auth.SigningKey;
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Convert.FromBase64String(configured.Trim()); // checked at start by PaperclipOptionsValidator
        }

        var text = LoadOrCreate(SigningKeyFile, () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(64)));
        var stored = Convert.FromBase64String(text.Trim());
        return stored.Length >= MinimumSigningKeyBytes
            ? stored
            : throw new InvalidOperationException($"The stored signing key {SigningKeyFile} is shorter than {MinimumSigningKeyBytes} bytes.");
    }

    /// <summary>The backend's server private key as PKCS#8 DER.</summary>
    public byte[] LoadServerKeyPkcs8()
    {
        var configured = _options.ServerKey;
        var text = string.IsNullOrWhiteSpace(configured)
            ? LoadOrCreate(ServerKeyFile, () =>
            {
                using var key = Paperclip.Protocol.Certificates.AccountKey.Generate(Paperclip.Protocol.Certificates.KeyAlgorithm.EcdsaP256);
                return PemEncoding.WriteString("PRIVATE KEY", key.ExportPkcs8PrivateKey());
            })
            : configured;
        return DecodePkcs8(text);
    }

    private static byte[] DecodePkcs8(string text)
    {
        text = text.Trim();
        if (text.StartsWith("-----", StringComparison.Ordinal))
        {
            var fields = PemEncoding.Find(text);
            var label = text[fields.Label];
            if (label is not "PRIVATE KEY")
            {
                throw new InvalidOperationException($"The server key must be a PKCS#8 'PRIVATE KEY' PEM, not '{label}'.");
            }

            return Convert.FromBase64String(text[fields.Base64Data]);
        }

        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException ex)
        {
            throw new InvalidOperationException("Paperclip:ServerKey must be a PKCS#8 PEM or base64 PKCS#8 DER.", ex);
        }
    }

    private string LoadOrCreate(string fileName, Func<string> create)
    {
        var directory = SecretsDirectory;
        var path = Path.Combine(directory, fileName);
        if (File.Exists(path))
        {
            return File.ReadAllText(path, Encoding.ASCII);
        }

        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var content = create();
        var streamOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            streamOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using (var stream = new FileStream(path, streamOptions))
            {
                var bytes = Encoding.ASCII.GetBytes(content);
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
                CryptographicOperations.ZeroMemory(bytes);
            }

            LogSecretGenerated(_logger, path);
            return content;
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first: use theirs.
            return File.ReadAllText(path, Encoding.ASCII);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Generated a new secret at {Path}; keep it with the data and back it up")]
    private static partial void LogSecretGenerated(ILogger logger, string path);
}
