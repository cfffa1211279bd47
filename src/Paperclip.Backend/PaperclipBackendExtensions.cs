using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Paperclip.Backend.Data;
using Paperclip.Backend.Endpoints;
using Paperclip.Backend.Http;
using Paperclip.Backend.Lobbies;
using Paperclip.Backend.OpenApi;
using Paperclip.Backend.Operations;
using Paperclip.Backend.Security;
using Paperclip.Contracts;
using Paperclip.Games;

namespace Paperclip.Backend;

/// <summary>Wires the backend into an ASP.NET Core host.</summary>
public static class PaperclipBackendExtensions
{
    /// <summary>The connection string used when <c>ConnectionStrings:Paperclip</c> is not set (SQLite only).</summary>
    public const string DefaultSqliteConnectionString = "Data Source=paperclip.db";

    /// <summary>Registers the backend's services: options, database, auth, lobbies, problem details, OpenAPI, health.</summary>
    public static WebApplicationBuilder AddPaperclipBackend(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddPaperclipOptions(builder.Configuration);
        services.TryAddSingleton<IHostCertificateIssuer, ServerKeyHostCertificateIssuer>();
        services.AddPaperclipDatabase();

        services.AddSingleton<SecretStore>();
        services.AddSingleton<ServerKeyService>();
        services.AddSingleton<TokenService>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<CredentialCache>();
        services.AddSingleton(sp => new PasswordHasher(sp.GetRequiredService<IOptions<PaperclipOptions>>().Value.Auth.PasswordIterations));
        services.AddScoped<AccountService>();
        services.AddSingleton<GameLookup>();
        services.TryAddSingleton<IAccountKeyDirectory, DatabaseAccountKeyDirectory>();

        services.TryAddSingleton<ILobbyServerHost, NullLobbyServerHost>();
        services.TryAddSingleton<InMemoryLobbyTable>();
        services.TryAddSingleton<ILobbyMembership>(sp => sp.GetRequiredService<InMemoryLobbyTable>());
        services.TryAddSingleton<ILobbyRegistry, InMemoryLobbyRegistry>();

        services.AddHostedService<DatabaseInitializer>();
        services.AddHostedService<LobbyPruningService>();

        services.AddAuthentication(PaperclipAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, PaperclipAuthenticationHandler>(PaperclipAuthenticationHandler.SchemeName, null);
        services.AddAuthorization();

        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.KebabCaseLower;
            // Numbers are JSON numbers (as requests are read); the web default would also take "3",
            // and the OpenAPI schemas would then type every number as integer-or-string.
            json.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, PaperclipJsonContext.Default);
        });
        services.AddProblemDetails();
        services.AddExceptionHandler(o => o.StatusCodeSelector = StatusCodeOf);
        services.AddOptions<KestrelServerOptions>()
            .Configure<IOptions<PaperclipOptions>>((kestrel, paperclip) => kestrel.Limits.MaxRequestBodySize = paperclip.Value.MaxRequestBodyBytes);
        services.AddPaperclipOpenApi();
        builder.AddPaperclipOperations();
        return builder;
    }

    /// <summary>
    /// The <c>Paperclip</c> options, bound and checked at start (<see cref="PaperclipOptionsValidator"/>:
    /// each problem names its key), and the system clock unless another <see cref="TimeProvider"/> is registered.
    /// </summary>
    public static IServiceCollection AddPaperclipOptions(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(PaperclipOptions.SectionName);
        services.AddOptions<PaperclipOptions>()
            .Configure(options => BindNamingTheKey(section, options))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PaperclipOptions>, PaperclipOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }

    /// <summary>
    /// The database of <c>Paperclip:Database:Provider</c> and <c>ConnectionStrings:Paperclip</c> as a
    /// scoped <see cref="PaperclipDbContext"/> (pooled), and its <c>database</c> readiness check.
    /// Nothing is migrated here: <see cref="DatabaseInitializer"/> does that on processes that own the schema.
    /// </summary>
    public static IServiceCollection AddPaperclipDatabase(this IServiceCollection services)
    {
        // Both pools are registered; the configured provider picks one when a context is asked for.
        services.AddDbContextPool<SqlitePaperclipDbContext>((sp, db) => db.UseSqlite(ConnectionString(sp, DatabaseProvider.Sqlite)));
        services.AddDbContextPool<PostgresPaperclipDbContext>((sp, db) => db.UseNpgsql(ConnectionString(sp, DatabaseProvider.Postgres)));
        services.AddScoped<PaperclipDbContext>(sp =>
            sp.GetRequiredService<IOptions<PaperclipOptions>>().Value.Database.Provider == DatabaseProvider.Postgres
                ? sp.GetRequiredService<PostgresPaperclipDbContext>()
                : sp.GetRequiredService<SqlitePaperclipDbContext>());
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>(DatabaseHealthCheck.Name, tags: [OperationsExtensions.ReadyTag]);
        return services;
    }

    /// <summary>
    /// Registers a game: the catalogue gets its descriptor at start, and a process that hosts
    /// lobbies runs it. Every process of a deployment registers the same games.
    /// </summary>
    public static IServiceCollection AddPaperclipGame<TGame>(this IServiceCollection services)
        where TGame : class, IGame
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IGame, TGame>());
        return services;
    }

    /// <summary>Adds the middleware (problem details, authentication) and maps every endpoint of the API, its OpenAPI document and <c>/docs</c>.</summary>
    public static WebApplication MapPaperclipApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();

        // Requests that do not fit their contract are answered with their problem, not handled.
        var api = app.MapGroup(string.Empty).AddEndpointFilterFactory(InputFilter.Create);
        api.MapAuthEndpoints();
        api.MapFriendsEndpoints();
        api.MapGamesEndpoints();
        api.MapLobbyEndpoints();
        api.MapHealthEndpoints();
        app.MapPaperclipOperations();
        var options = app.Services.GetRequiredService<IOptions<PaperclipOptions>>().Value;
        if (options.Mode == ServerMode.Api)
            api.MapHostCertificateEndpoints();
        app.MapPaperclipOpenApi(options.ApiReference ?? app.Environment.IsDevelopment());
        return app;
    }

    // A value the binder cannot convert ("abc" for a number) is reported like a failed check:
    // one OptionsValidationException whose message names the key.
    private static void BindNamingTheKey(IConfigurationSection section, PaperclipOptions options)
    {
        try
        {
            section.Bind(options);
        }
        catch (InvalidOperationException e)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(PaperclipOptions), [e.Message]);
        }
    }

    // A registry that cannot answer (Redis down or emptied) or a database that does not (stopped,
    // restarting, unreachable) is 503, never a guess, so clients retry; only a fault of ours is 500.
    private static int StatusCodeOf(Exception exception)
    {
        if (exception is Microsoft.AspNetCore.Http.BadHttpRequestException bad)
            return bad.StatusCode;
        if (exception is LobbyRegistryUnavailableException)
            return StatusCodes.Status503ServiceUnavailable;
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is System.Data.Common.DbException { IsTransient: true } or System.Net.Sockets.SocketException or System.TimeoutException)
                return StatusCodes.Status503ServiceUnavailable;
        }
        return StatusCodes.Status500InternalServerError;
    }

    private static string ConnectionString(IServiceProvider services, DatabaseProvider provider)
    {
        var configured = services.GetRequiredService<IConfiguration>().GetConnectionString("Paperclip");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        return provider == DatabaseProvider.Sqlite
            ? DefaultSqliteConnectionString
            : throw new InvalidOperationException("ConnectionStrings:Paperclip must be set when Paperclip:Database:Provider is Postgres.");
    }
}
