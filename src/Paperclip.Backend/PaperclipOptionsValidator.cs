using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Paperclip.Backend.Lobbies;
using Paperclip.Backend.Security;

namespace Paperclip.Backend;

/// <summary>
/// Checks <see cref="PaperclipOptions"/> at start (<c>ValidateOnStart</c>): every failure names
/// its configuration key, e.g. <c>Paperclip:Lobbies:PruneSeconds must be 0 to 86400 seconds, not -1.</c>
/// </summary>
/// <param name="configuration">The whole configuration, for the keys other sections own (<c>Paperclip:Redis</c>).</param>
public sealed class PaperclipOptionsValidator(IConfiguration configuration) : IValidateOptions<PaperclipOptions>
{
    /// <summary>A day in seconds: the longest lobby or login timer (tokens may last thirty).</summary>
    private const int Day = 86_400;

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, PaperclipOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        void InRange(string key, int value, int min, int max, string unit)
        {
            if (value < min || value > max)
                failures.Add(string.Create(CultureInfo.InvariantCulture, $"{PaperclipOptions.SectionName}:{key} must be {min} to {max} {unit}, not {value}."));
        }
        void NotEmpty(string key, string? value)
        {
            if (string.IsNullOrWhiteSpace(value))
                failures.Add($"{PaperclipOptions.SectionName}:{key} must not be empty.");
        }

        InRange("MaxRequestBodyBytes", options.MaxRequestBodyBytes, 1, int.MaxValue, "bytes");

        var auth = options.Auth;
        InRange("Auth:TokenSeconds", auth.TokenSeconds, 1, 30 * Day, "seconds");
        InRange("Auth:PasswordIterations", auth.PasswordIterations, PasswordHasher.MinimumIterations, int.MaxValue, "iterations");
        InRange("Auth:MaxFailedLogins", auth.MaxFailedLogins, 1, int.MaxValue, "logins");
        InRange("Auth:FailedLoginWindowSeconds", auth.FailedLoginWindowSeconds, 1, Day, "seconds");
        InRange("Auth:CredentialCacheSeconds", auth.CredentialCacheSeconds, 0, Day, "seconds");
        NotEmpty("Auth:Issuer", auth.Issuer);
        if (!string.IsNullOrWhiteSpace(auth.SigningKey) && !IsSigningKey(auth.SigningKey))
            failures.Add($"{PaperclipOptions.SectionName}:Auth:SigningKey must be base64 of at least {SecretStore.MinimumSigningKeyBytes} bytes (or empty, to generate one).");

        var lobbies = options.Lobbies;
        NotEmpty("Lobbies:PublicHost", lobbies.PublicHost);
        try
        {
            PortRange.Parse(lobbies.PortRange ?? "");
        }
        catch (FormatException e)
        {
            failures.Add($"{PaperclipOptions.SectionName}:Lobbies:PortRange: {e.Message.TrimEnd('.')}");
        }
        InRange("Lobbies:PruneSeconds", lobbies.PruneSeconds, 0, Day, "seconds");
        InRange("Lobbies:ReservationSeconds", lobbies.ReservationSeconds, 1, Day, "seconds");
        InRange("Lobbies:PruneIntervalSeconds", lobbies.PruneIntervalSeconds, 1, Day, "seconds");

        InRange("Cluster:HostCertificateSeconds", options.Cluster.HostCertificateSeconds, 60, 30 * Day, "seconds");
        if (options.Mode != ServerMode.Embedded)
            ValidateCluster(options, failures);

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>The least length of <see cref="ClusterOptions.HostSecret"/>.</summary>
    public const int MinimumHostSecretLength = 32;

    // Every API node must sign and check the same tokens and certificates, so nothing may be
    // generated per process; the root server key and the token key stay on API nodes.
    private void ValidateCluster(PaperclipOptions options, List<string> failures)
    {
        var mode = options.Mode;
        var prefix = PaperclipOptions.SectionName;
        if (string.IsNullOrWhiteSpace(options.Cluster.HostSecret) || options.Cluster.HostSecret.Trim().Length < MinimumHostSecretLength)
            failures.Add($"{prefix}:Cluster:HostSecret must be set to the cluster's shared secret (at least {MinimumHostSecretLength} characters) in Mode={mode}.");
        if (string.IsNullOrWhiteSpace(configuration[$"{prefix}:Redis:Configuration"]))
            failures.Add($"{prefix}:Redis:Configuration must name the cluster's Redis (e.g. 127.0.0.1:6379) in Mode={mode}.");
        // API nodes share the accounts; a game host reads the accounts' public keys from the same database.
        if (options.Database.Provider != DatabaseProvider.Postgres)
            failures.Add($"{prefix}:Database:Provider must be Postgres in Mode={mode} (every node of a cluster reads one database).");
        else if (string.IsNullOrWhiteSpace(configuration.GetConnectionString("Paperclip")))
            failures.Add($"ConnectionStrings:Paperclip must name the cluster's PostgreSQL database in Mode={mode}.");
        if (mode == ServerMode.Api)
        {
            if (string.IsNullOrWhiteSpace(options.Auth.SigningKey))
                failures.Add($"{prefix}:Auth:SigningKey must be set in Mode=Api: every API node must check the same tokens.");
            if (string.IsNullOrWhiteSpace(options.ServerKey))
                failures.Add($"{prefix}:ServerKey must be set in Mode=Api: every API node must sign with the same server key.");
        }
        else
        {
            if (!Uri.TryCreate(options.Cluster.ApiUrl, UriKind.Absolute, out var api) || api.Scheme is not ("http" or "https"))
                failures.Add($"{prefix}:Cluster:ApiUrl must be the http(s) address of an API node in Mode=GameHost.");
            if (!string.IsNullOrWhiteSpace(options.ServerKey))
                failures.Add($"{prefix}:ServerKey must not be set in Mode=GameHost: the server's private key stays on API nodes.");
            if (!string.IsNullOrWhiteSpace(options.Auth.SigningKey))
                failures.Add($"{prefix}:Auth:SigningKey must not be set in Mode=GameHost: a game host checks certificates, not tokens, and the token key stays on API nodes.");
        }
    }

    private static bool IsSigningKey(string text)
    {
        var bytes = new byte[text.Length];
        return Convert.TryFromBase64String(text.Trim(), bytes, out var length) && length >= SecretStore.MinimumSigningKeyBytes;
    }
}
