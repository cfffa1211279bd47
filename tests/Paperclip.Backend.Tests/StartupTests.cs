using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Paperclip.Backend.Data;
using Paperclip.Backend.Lobbies;
using Paperclip.Backend.Tests.Infrastructure;
using Paperclip.Games;
using Paperclip.Games.RockPaperScissors;
using static Paperclip.Backend.Tests.Infrastructure.Http;

namespace Paperclip.Backend.Tests;

/// <summary>Seeding, demo data, migrations, secrets and the pruning service: each test starts its own server.</summary>
public abstract class StartupTests(Db db)
{
    [Fact]
    public async Task Demo_start_creates_Mario_Peach_Bowser_and_their_friendships()
    {
        await using var factory = await PaperclipFactory.CreateAsync(db, s => s["Paperclip:Demo"] = "true");
        using var client = factory.CreateClient();
        var friends = new Dictionary<string, string[]>();
        foreach (var (name, password) in DatabaseInitializer.DemoAccounts)
        {
            client.DefaultRequestHeaders.Authorization = AppFixture.Basic(name, password);
            var list = await client.GetFromJsonAsync<JsonElement>("/friends/");
            friends[name] = list.GetProperty("friends").EnumerateArray().Select(f => f.GetProperty("username").GetString()!).ToArray();
        }

        Assert.Equal(["Peach"], friends["Mario"]);
        Assert.Equal(["Bowser", "Mario"], friends["Peach"].Order().ToArray());
        Assert.Equal(["Peach"], friends["Bowser"]);
        client.DefaultRequestHeaders.Authorization = AppFixture.Basic("Mario", "ItsAMe123");
        Assert.Equal("RPS", (await client.GetFromJsonAsync<JsonElement>("/games/")).GetProperty("1").GetString());
    }

    [Fact]
    public async Task Production_start_has_RPS_and_no_demo_accounts()
    {
        await using var factory = await PaperclipFactory.CreateAsync(db, environment: "Production");
        _ = factory.Server;
        await using var scope = factory.Services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<PaperclipDbContext>();
        Assert.Equal(0, await context.Accounts.CountAsync());
        var rps = await context.Games.SingleAsync();
        Assert.Equal((1L, "RPS", 2, 2), (rps.Id, rps.Name, rps.MinPlayers, rps.MaxPlayers));
    }

    [Fact]
    public async Task A_registered_game_is_written_into_the_catalogue_at_start_from_its_descriptor()
    {
        await using var factory = await PaperclipFactory.CreateAsync(db, s => s["Paperclip:Demo"] = "true");
        factory.ConfigureServices = services => services.AddPaperclipGame<GuessGame>();
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = AppFixture.Basic("Mario", "ItsAMe123");

        var games = await client.GetFromJsonAsync<JsonElement>("/games/");
        Assert.Equal("Guess", games.GetProperty("7").GetString());
        Assert.Equal(RockPaperScissorsGame.Descriptor.Name, games.GetProperty("1").GetString());
        using var created = await client.PostAsJsonAsync("/lobby/create", new Dictionary<string, long> { ["game-id"] = 7 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var lobby = await factory.Services.GetRequiredService<ILobbyRegistry>().GetLobbyAsync((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("lobby-id").GetInt64());
        Assert.Equal(GuessGame.Catalogue, lobby!.Game);
    }

    [Fact]
    public async Task The_catalogue_sync_corrects_a_row_that_differs_from_its_game_and_refuses_a_clash()
    {
        await using var factory = await PaperclipFactory.CreateAsync(db);
        _ = factory.Server;
        await using var scope = factory.Services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<PaperclipDbContext>();
        var row = await context.Games.SingleAsync(g => g.Id == RockPaperScissorsGame.Descriptor.Id);
        (row.Name, row.MaxPlayers) = ("Old RPS", 5);
        await context.SaveChangesAsync();
        context.ChangeTracker.Clear();

        Assert.Equal(1, await GameCatalogue.SyncAsync(context, [RockPaperScissorsGame.Descriptor], CancellationToken.None));
        var synced = await context.Games.AsNoTracking().SingleAsync(g => g.Id == RockPaperScissorsGame.Descriptor.Id);
        Assert.Equal(RockPaperScissorsGame.Descriptor, new GameDescriptor(synced.Id, synced.Name, synced.MinPlayers, synced.MaxPlayers));
        Assert.Equal(0, await GameCatalogue.SyncAsync(context, [RockPaperScissorsGame.Descriptor], CancellationToken.None));

        var clash = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            GameCatalogue.SyncAsync(context, [RockPaperScissorsGame.Descriptor, new GameDescriptor(9, "rps", 2, 2)], CancellationToken.None));
        Assert.Contains("share an id or a name", clash.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            GameCatalogue.SyncAsync(context, [new GameDescriptor(9, "Solo", 3, 2)], CancellationToken.None));
    }

    private sealed class GuessGame : IGame
    {
        public static readonly GameDescriptor Catalogue = new(7, "Guess", 2, 4);

        public GameDescriptor Descriptor => Catalogue;

        public IGameSession CreateSession(GameLobbyContext lobby) => throw new NotSupportedException("No lobby of this game runs in these tests.");
    }

    [Fact]
    public async Task Demo_accounts_are_created_only_on_a_new_database()
    {
        var sqliteFile = Path.Combine(Path.GetTempPath(), $"paperclip-existing-{Guid.NewGuid():N}.db");
        string? connection = db == Db.Sqlite ? $"Data Source={sqliteFile};Pooling=false" : null;
        try
        {
            // First start without demo data: the database is created and migrated.
            await using (var first = await PaperclipFactory.CreateAsync(db, s =>
            {
                s["Paperclip:Demo"] = "false";
                if (connection is not null)
                {
                    s["ConnectionStrings:Paperclip"] = connection;
                }
            }))
            {
                _ = first.Server;
                connection ??= first.Services.GetRequiredService<IConfiguration>().GetConnectionString("Paperclip");
            }

            // Second start with demo data on: the database is not new, so nothing is added.
            await using var second = await PaperclipFactory.CreateAsync(db, s =>
            {
                s["Paperclip:Demo"] = "true";
                s["ConnectionStrings:Paperclip"] = connection;
            });
            _ = second.Server;
            await using var scope = second.Services.CreateAsyncScope();
            var context = scope.ServiceProvider.GetRequiredService<PaperclipDbContext>();
            Assert.Equal(0, await context.Accounts.CountAsync());
        }
        finally
        {
            foreach (var file in new[] { sqliteFile, sqliteFile + "-wal", sqliteFile + "-shm" })
            {
                File.Delete(file);
            }
        }
    }

    [Fact]
    public async Task Secrets_are_generated_once_owner_only_and_reused()
    {
        await using var factory = await PaperclipFactory.CreateAsync(db);
        var user = await CreateUserAsync(factory);
        var secrets = Path.Combine(factory.DataDirectory, "secrets");
        var signing = Path.Combine(secrets, "jwt-signing.key");
        var serverKey = Path.Combine(secrets, "server-key.pem");
        Assert.True(File.Exists(signing));
        Assert.True(File.Exists(serverKey));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(signing));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(serverKey));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(secrets));
        }

        Assert.True(Convert.FromBase64String(File.ReadAllText(signing).Trim()).Length >= 32);

        // A second server with the same data directory accepts the first one's token.
        await using var second = await PaperclipFactory.CreateAsync(db, s => s["Paperclip:DataDirectory"] = factory.DataDirectory);
        using var client = second.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", user);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/games/")).StatusCode);
    }

    [Fact]
    public async Task Configured_signing_key_is_used_and_a_short_one_is_refused()
    {
        var key = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        await using (var factory = await PaperclipFactory.CreateAsync(db, s => s["Paperclip:Auth:SigningKey"] = key))
        {
            await CreateUserAsync(factory);
            Assert.False(File.Exists(Path.Combine(factory.DataDirectory, "secrets", "jwt-signing.key")));
        }

        await using var weak = await PaperclipFactory.CreateAsync(db, s => s["Paperclip:Auth:SigningKey"] = Convert.ToBase64String(new byte[16]));
        Assert.ThrowsAny<Exception>(() => weak.Server);
    }

    [Fact]
    public async Task The_pruning_service_removes_empty_lobbies_on_the_injected_clock()
    {
        await using var factory = await PaperclipFactory.CreateAsync(db, s => s["Paperclip:Lobbies:PruneSeconds"] = "60");
        _ = factory.Server;
        var registry = factory.Services.GetRequiredService<ILobbyRegistry>();
        var lobby = await registry.CreateAsync(RockPaperScissorsGame.Descriptor, 1);
        var kept = await registry.CreateAsync(RockPaperScissorsGame.Descriptor, 2);
        Assert.True(await factory.Services.GetRequiredService<ILobbyMembership>().MemberJoinedAsync(kept.LobbyId, 2));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (await registry.GetLobbyAsync(lobby.LobbyId) is not null)
        {
            factory.Time.Advance(TimeSpan.FromSeconds(5));
            await Task.Delay(10, timeout.Token);
        }

        Assert.True(factory.Time.GetUtcNow() - PaperclipFactory.Epoch >= TimeSpan.FromSeconds(60));
        Assert.NotNull(await registry.GetLobbyAsync(kept.LobbyId));
    }

    [Fact]
    public async Task Migrations_match_the_model()
    {
        await using var factory = await PaperclipFactory.CreateAsync(db);
        _ = factory.Server;
        await using var scope = factory.Services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<PaperclipDbContext>();
        Assert.False(context.Database.HasPendingModelChanges(), "The model changed: add a migration for both providers.");
        Assert.Empty(await context.Database.GetPendingMigrationsAsync());
        if (db == Db.Sqlite)
        {
            var mode = await context.Database.SqlQueryRaw<string>("PRAGMA journal_mode").ToListAsync();
            Assert.Equal("wal", Assert.Single(mode));
        }
    }

    private static async Task<string> CreateUserAsync(PaperclipFactory factory)
    {
        using var client = factory.CreateClient();
        using var response = await client.PostAsync("/auth/register", Json("{\"username\":\"starter\",\"password\":\"pw-123\"}"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        client.DefaultRequestHeaders.Authorization = AppFixture.Basic("starter", "pw-123");
        return (await client.GetFromJsonAsync<JsonElement>("/auth/token")).GetProperty("token").GetString()!;
    }
}

public sealed class StartupTestsSqlite() : StartupTests(Db.Sqlite);

public sealed class StartupTestsPostgres() : StartupTests(Db.Postgres);
