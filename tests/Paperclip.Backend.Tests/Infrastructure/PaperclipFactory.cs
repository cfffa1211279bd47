using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Paperclip.Backend.Lobbies;
using Microsoft.Extensions.Time.Testing;

namespace Paperclip.Backend.Tests.Infrastructure;

/// <summary>The database a test runs against.</summary>
public enum Db
{
    Sqlite,
    Postgres,
}

/// <summary>
/// The real server (Program) in memory, on a fresh database (SQLite file in a temp dir, or a new
/// database of the shared PostgreSQL cluster), with a FakeTimeProvider and its own data directory.
/// </summary>
public sealed class PaperclipFactory : WebApplicationFactory<Program>
{
    /// <summary>The clock every test starts at (the test vectors' check time).</summary>
    public static readonly DateTimeOffset Epoch = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>The header a test sets to choose the client address the server sees.</summary>
    public const string RemoteAddressHeader = "X-Test-Remote-Address";

    private readonly Dictionary<string, string?> _settings;
    private readonly string _environment;

    private PaperclipFactory(Db db, string dataDirectory, Dictionary<string, string?> settings, string environment)
    {
        Database = db;
        DataDirectory = dataDirectory;
        _settings = settings;
        _environment = environment;
    }

    public Db Database { get; }

    public string DataDirectory { get; }

    public FakeTimeProvider Time { get; } = new(Epoch);

    /// <summary>More service changes, applied after the factory's own (set before the server starts).</summary>
    public Action<IServiceCollection>? ConfigureServices { get; set; }

    /// <summary>Creates a factory on a new database; <paramref name="configure"/> may change any setting.</summary>
    public static async Task<PaperclipFactory> CreateAsync(Db db, Action<Dictionary<string, string?>>? configure = null, string environment = "Testing")
    {
        var dataDirectory = Directory.CreateTempSubdirectory("paperclip-test-").FullName;
        var settings = new Dictionary<string, string?>
        {
            ["Paperclip:DataDirectory"] = dataDirectory,
            ["Paperclip:LogDirectory"] = string.Empty,
            ["Paperclip:Lobbies:PortRange"] = "42000-42999",
            ["Serilog:MinimumLevel:Default"] = "Warning",
            ["Serilog:MinimumLevel:Override:Microsoft.AspNetCore"] = "Error",
            ["Serilog:MinimumLevel:Override:Paperclip"] = "Warning",
        };
        if (db == Db.Sqlite)
        {
            settings["Paperclip:Database:Provider"] = "Sqlite";
            settings["ConnectionStrings:Paperclip"] = $"Data Source={Path.Combine(dataDirectory, "paperclip.db")}";
        }
        else
        {
            var cluster = await PostgresCluster.GetAsync();
            settings["Paperclip:Database:Provider"] = "Postgres";
            settings["ConnectionStrings:Paperclip"] = await cluster.CreateDatabaseAsync("paperclip");
        }

        configure?.Invoke(settings);
        return new PaperclipFactory(db, dataDirectory, settings, environment);
    }

    /// <summary>A client whose requests come from <paramref name="address"/>.</summary>
    public HttpClient CreateClient(IPAddress address)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add(RemoteAddressHeader, address.ToString());
        return client;
    }

    /// <inheritdoc />
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(_environment);
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<TimeProvider>(Time);
            // These tests cover the REST contract and the registry; game servers have their own tests.
            services.Replace(ServiceDescriptor.Singleton<ILobbyServerHost, NullLobbyServerHost>());
            services.AddTransient<IStartupFilter, RemoteAddressStartupFilter>();
            ConfigureServices?.Invoke(services);
        });
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class RemoteAddressStartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (context.Request.Headers.TryGetValue(RemoteAddressHeader, out var value) && IPAddress.TryParse(value, out var address))
                {
                    context.Connection.RemoteIpAddress = address;
                }

                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
