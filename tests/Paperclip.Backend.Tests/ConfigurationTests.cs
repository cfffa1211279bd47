using Microsoft.Extensions.Options;
using Paperclip.Backend.Tests.Infrastructure;

namespace Paperclip.Backend.Tests;

/// <summary>Bad configuration stops the server at start with a message that names the key.</summary>
public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("Paperclip:Lobbies:PruneSeconds", "-1")]
    [InlineData("Paperclip:Lobbies:PruneIntervalSeconds", "0")]
    [InlineData("Paperclip:Lobbies:ReservationSeconds", "0")]
    [InlineData("Paperclip:Lobbies:PortRange", "5000-4000")]
    [InlineData("Paperclip:Lobbies:PublicHost", " ")]
    [InlineData("Paperclip:Auth:TokenSeconds", "0")]
    [InlineData("Paperclip:Auth:TokenSeconds", "ten")]
    [InlineData("Paperclip:Auth:PasswordIterations", "1000")]
    [InlineData("Paperclip:Auth:MaxFailedLogins", "0")]
    [InlineData("Paperclip:Auth:FailedLoginWindowSeconds", "-5")]
    [InlineData("Paperclip:Auth:CredentialCacheSeconds", "-1")]
    [InlineData("Paperclip:Auth:SigningKey", "not base64!")]
    [InlineData("Paperclip:MaxRequestBodyBytes", "0")]
    [InlineData("Paperclip:Database:Provider", "Oracle")]
    public async Task A_bad_value_stops_the_start_naming_its_key(string key, string value)
    {
        await using var factory = await PaperclipFactory.CreateAsync(Db.Sqlite, s => s[key] = value);
        var failure = Assert.IsType<OptionsValidationException>(Unwrap(Record.Exception(() => factory.Server)));
        Assert.Contains(key, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_documented_defaults_and_units_start()
    {
        await using var factory = await PaperclipFactory.CreateAsync(Db.Sqlite, s =>
        {
            s["Paperclip:Lobbies:PruneSeconds"] = "0";
            s["Paperclip:Auth:CredentialCacheSeconds"] = "0";
            s["Paperclip:Auth:TokenSeconds"] = "600";
        });
        using var client = factory.CreateClient();
        Assert.True((await client.GetAsync("/health")).IsSuccessStatusCode);
    }

    [Fact]
    public async Task A_bad_value_in_the_env_file_stops_the_server_process_with_one_line()
    {
        var directory = Directory.CreateTempSubdirectory("paperclip-config-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory, ".env"), "# lobbies\nPaperclip__Lobbies__PruneSeconds=-30\n");
            var (exitCode, output, error) = await ServerProcess.RunUntilExitAsync(directory);
            Assert.Equal(1, exitCode);
            var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var line = Assert.Single(lines);
            Assert.Equal("Configuration error: Paperclip:Lobbies:PruneSeconds must be 0 to 86400 seconds, not -30.", line);
            Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(directory, "paperclip.db")), "The server touched the database before checking its configuration.");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    // The host may wrap a start failure (an AggregateException of the hosted services' starts).
    private static Exception? Unwrap(Exception? exception) =>
        exception is AggregateException { InnerExceptions.Count: 1 } aggregate ? Unwrap(aggregate.InnerException) : exception;
}
