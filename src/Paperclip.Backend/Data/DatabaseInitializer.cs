using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Paperclip.Backend.Security;
using Paperclip.Games;

namespace Paperclip.Backend.Data;

/// <summary>
/// Runs at start, before the server listens: loads or generates the secrets, applies the
/// migrations (SQLite in WAL mode), writes the registered games into the catalogue, and on a new
/// database with demo data enabled creates the demo accounts and their friendships. On
/// PostgreSQL all of that runs under a session advisory lock, so API nodes that start at once on
/// one database take turns: the first migrates and seeds, the others find it done.
/// </summary>
public sealed partial class DatabaseInitializer(
    IServiceProvider services,
    IEnumerable<IGame> games,
    IOptions<PaperclipOptions> options,
    IHostEnvironment environment,
    ILogger<DatabaseInitializer> logger) : IHostedService
{
    /// <summary>The <c>pg_advisory_lock</c> key the start's database work holds: "Papercli" in ASCII.</summary>
    public const long MigrationLockKey = 0x5061_7065_7263_6C69;

    /// <summary>The demo accounts: Mario, Peach and Bowser.</summary>
    public static readonly IReadOnlyList<(string Username, string Password)> DemoAccounts =
        [("Mario", "ItsAMe123"), ("Peach", "MammaMia!"), ("Bowser", "M4r10SucK5")];

    /// <summary>True when demo data is created on a new database with these settings.</summary>
    public static bool DemoEnabled(PaperclipOptions options, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(environment);
        return options.Demo ?? (options.Database.Provider == DatabaseProvider.Sqlite && environment.IsDevelopment());
    }

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Secrets first: generated once at first start, kept with the data.
        _ = services.GetRequiredService<TokenService>();
        _ = services.GetRequiredService<ServerKeyService>();
        _ = services.GetRequiredService<PasswordHasher>();

        var scope = services.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var db = scope.ServiceProvider.GetRequiredService<PaperclipDbContext>();
            if (db.Database.IsSqlite())
            {
                EnsureSqliteDirectory(db.Database.GetConnectionString());
                await PrepareAsync(scope.ServiceProvider, db, isSqlite: true, cancellationToken).ConfigureAwait(false);
                return;
            }

            // A session lock on a connection held open for the whole work: EF's migrations, the
            // catalogue and the demo data all run on it, and the lock goes with the session if
            // this process dies.
            await db.Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock({MigrationLockKey})", cancellationToken).ConfigureAwait(false);
                try
                {
                    await PrepareAsync(scope.ServiceProvider, db, isSqlite: false, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({MigrationLockKey})", CancellationToken.None).ConfigureAwait(false);
                }
            }
            finally
            {
                await db.Database.CloseConnectionAsync().ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task PrepareAsync(IServiceProvider scoped, PaperclipDbContext db, bool isSqlite, CancellationToken cancellationToken)
    {
        var applied = await db.Database.GetAppliedMigrationsAsync(cancellationToken).ConfigureAwait(false);
        var isNew = !applied.Any();
        await db.Database.MigrateAsync(cancellationToken).ConfigureAwait(false);
        if (isSqlite)
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken).ConfigureAwait(false);
        }

        LogMigrated(logger, isSqlite ? "SQLite" : "PostgreSQL", isNew);
        var written = await GameCatalogue.SyncAsync(db, games.Select(g => g.Descriptor), cancellationToken).ConfigureAwait(false);
        LogCatalogueSynced(logger, written);
        if (isNew && DemoEnabled(options.Value, environment))
        {
            await SeedDemoAsync(scoped, cancellationToken).ConfigureAwait(false);
        }
    }

    private static void EnsureSqliteDirectory(string? connectionString)
    {
        var source = new SqliteConnectionStringBuilder(connectionString).DataSource;
        if (string.IsNullOrEmpty(source) || source == ":memory:" || source.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(source));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
    }

    private async Task SeedDemoAsync(IServiceProvider scoped, CancellationToken cancellationToken)
    {
        var accounts = scoped.GetRequiredService<AccountService>();
        var db = scoped.GetRequiredService<PaperclipDbContext>();
        var time = scoped.GetRequiredService<TimeProvider>();
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (username, password) in DemoAccounts)
        {
            var (status, account) = await accounts.RegisterAsync(username, password, cancellationToken).ConfigureAwait(false);
            if (status == RegistrationStatus.Created)
            {
                ids[username] = account!.Id;
            }
        }

        foreach (var (a, b) in new[] { ("Mario", "Peach"), ("Peach", "Bowser") })
        {
            if (ids.TryGetValue(a, out var first) && ids.TryGetValue(b, out var second))
            {
                var (lower, higher) = Friendship.Order(first, second);
                db.Friendships.Add(new Friendship { LowerId = lower, HigherId = higher, CreatedAt = time.GetUtcNow() });
            }
        }

        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        db.ChangeTracker.Clear();
        LogDemoSeeded(logger);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Database ready ({Provider}, new: {IsNew})")]
    private static partial void LogMigrated(ILogger logger, string provider, bool isNew);

    [LoggerMessage(Level = LogLevel.Information, Message = "Games catalogue synced ({Written} rows written)")]
    private static partial void LogCatalogueSynced(ILogger logger, int written);

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo accounts created: Mario, Peach, Bowser")]
    private static partial void LogDemoSeeded(ILogger logger);
}
