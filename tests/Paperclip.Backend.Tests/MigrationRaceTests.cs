using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Paperclip.Backend.Data;
using Paperclip.Backend.Tests.Infrastructure;

namespace Paperclip.Backend.Tests;

/// <summary>API nodes that start at the same moment on one empty PostgreSQL database take turns migrating it.</summary>
public sealed class MigrationRaceTests
{
    [Fact]
    public async Task Two_servers_starting_at_once_on_an_empty_database_both_start_and_it_is_migrated_and_seeded_once()
    {
        var cluster = await PostgresCluster.GetAsync();
        var token = TestContext.Current.CancellationToken;
        // A few rounds: without the lock a round fails often, not always (both must reach the empty database together).
        for (var round = 0; round < 3; round++)
        {
            var database = await cluster.CreateDatabaseAsync("race");
            await using var first = await PaperclipFactory.CreateAsync(Db.Postgres, s => (s["ConnectionStrings:Paperclip"], s["Paperclip:Demo"]) = (database, "true"));
            await using var second = await PaperclipFactory.CreateAsync(Db.Postgres, s => (s["ConnectionStrings:Paperclip"], s["Paperclip:Demo"]) = (database, "true"));
            using var bothReady = new Barrier(2);
            await Task.WhenAll(
                Task.Run(() => { bothReady.SignalAndWait(token); _ = first.Server; }, token),
                Task.Run(() => { bothReady.SignalAndWait(token); _ = second.Server; }, token));

            foreach (var node in new[] { first, second })
            {
                using var http = node.CreateClient();
                http.DefaultRequestHeaders.Authorization = AppFixture.Basic("Mario", "ItsAMe123");
                using var games = await http.GetAsync("/games/", token);
                Assert.Equal(HttpStatusCode.OK, games.StatusCode);
            }

            await using var scope = first.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<PaperclipDbContext>();
            Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync(token));
            Assert.Equal(DatabaseInitializer.DemoAccounts.Select(a => a.Username).Order(), (await db.Accounts.Select(a => a.Username).ToListAsync(token)).Order());
            Assert.Equal(2, await db.Friendships.CountAsync(token));
        }
    }

    [Fact]
    public async Task A_server_waits_for_the_migration_lock_that_another_session_holds()
    {
        var cluster = await PostgresCluster.GetAsync();
        var token = TestContext.Current.CancellationToken;
        var database = await cluster.CreateDatabaseAsync("locked");
        await using var holder = new Npgsql.NpgsqlConnection(database);
        await holder.OpenAsync(token);
        await using (var take = new Npgsql.NpgsqlCommand($"SELECT pg_advisory_lock({DatabaseInitializer.MigrationLockKey})", holder))
            await take.ExecuteNonQueryAsync(token);

        await using var factory = await PaperclipFactory.CreateAsync(Db.Postgres, s => s["ConnectionStrings:Paperclip"] = database);
        var starting = Task.Run(() => factory.Server, token);
        // The start is blocked on the lock: nothing is migrated while another session holds it.
        await using (var waiting = new Npgsql.NpgsqlCommand("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted", holder))
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while ((long)(await waiting.ExecuteScalarAsync(token))! != 1)
            {
                Assert.True(DateTime.UtcNow < deadline, "The server never waited for the lock.");
                await Task.Delay(20, token);
            }
        }
        await using (var history = new Npgsql.NpgsqlCommand("SELECT to_regclass('\"__EFMigrationsHistory\"') IS NULL", holder))
            Assert.True((bool)(await history.ExecuteScalarAsync(token))!);
        Assert.False(starting.IsCompleted);

        await using (var release = new Npgsql.NpgsqlCommand($"SELECT pg_advisory_unlock({DatabaseInitializer.MigrationLockKey})", holder))
            await release.ExecuteNonQueryAsync(token);
        await starting.WaitAsync(TimeSpan.FromSeconds(60), token);
        using var http = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health", token)).StatusCode);
    }
}
