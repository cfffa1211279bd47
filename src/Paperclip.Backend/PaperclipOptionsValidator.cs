using System.Globalization;
using Microsoft.Extensions.Options;
using Paperclip.Backend.Lobbies;
using Paperclip.Backend.Security;

namespace Paperclip.Backend;

/// <summary>
/// Checks <see cref="PaperclipOptions"/> at start (<c>ValidateOnStart</c>): every failure names
/// its configuration key, e.g. <c>Paperclip:Lobbies:PruneSeconds must be 0 to 86400 seconds, not -1.</c>
/// </summary>
public sealed class PaperclipOptionsValidator : IValidateOptions<PaperclipOptions>
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

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsSigningKey(string text)
    {
        var bytes = new byte[text.Length];
        return Convert.TryFromBase64String(text.Trim(), bytes, out var length) && length >= SecretStore.MinimumSigningKeyBytes;
    }
}
