using Microsoft.EntityFrameworkCore;

namespace Paperclip.Backend.Data;

/// <summary>The backend's database. Each provider has its own subclass so that each keeps its own migrations.</summary>
public abstract class PaperclipDbContext : DbContext
{
    /// <summary>Creates the context.</summary>
    protected PaperclipDbContext(DbContextOptions options)
        : base(options)
    {
    }

    /// <summary>Accounts.</summary>
    public DbSet<Account> Accounts => Set<Account>();

    /// <summary>Friendships.</summary>
    public DbSet<Friendship> Friendships => Set<Friendship>();

    /// <summary>The games catalogue.</summary>
    public DbSet<Game> Games => Set<Game>();

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(PaperclipDbContext).Assembly);
    }
}

/// <summary>The SQLite flavour of <see cref="PaperclipDbContext"/> (migrations in <c>Data/Migrations/Sqlite</c>).</summary>
public sealed class SqlitePaperclipDbContext(DbContextOptions<SqlitePaperclipDbContext> options) : PaperclipDbContext(options);

/// <summary>The PostgreSQL flavour of <see cref="PaperclipDbContext"/> (migrations in <c>Data/Migrations/Postgres</c>).</summary>
public sealed class PostgresPaperclipDbContext(DbContextOptions<PostgresPaperclipDbContext> options) : PaperclipDbContext(options);
