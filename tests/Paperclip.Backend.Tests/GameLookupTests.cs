using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Paperclip.Backend.Data;
using Paperclip.Backend.Tests.Infrastructure;
using static Paperclip.Backend.Tests.Infrastructure.Http;

namespace Paperclip.Backend.Tests;

/// <summary>
/// Matchmaking finds its game in the catalogue this process loaded, not with a PostgreSQL query per
/// request; a game it does not know yet (added since) is one reload.
/// </summary>
public sealed partial class GameLookupTests(PostgresApp app) : IClassFixture<PostgresApp>
{
    [Fact]
    public async Task Matchmakes_look_up_no_game_in_the_database_once_the_catalogue_is_loaded()
    {
        var users = await app.InsertAccountsAsync("gl", 21);
        using var queries = new GameQueries(DatabaseName());
        using (var first = await app.Client(users[0]).PostAsync("/lobby/matchmake", Json("{\"game-id\":1}")))
            Assert.True(first.IsSuccessStatusCode, $"matchmake answered {(int)first.StatusCode}");
        Assert.Single(queries.Seen); // the catalogue, loaded once
        queries.Seen.Clear();

        for (var i = 1; i < users.Count; i++)
        {
            using var client = app.Client(users[i]);
            using var answer = await client.PostAsync("/lobby/matchmake", Json(i % 2 == 0 ? "{\"game-id\":1}" : "{\"game-name\":\"rps\"}"));
            Assert.True(answer.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created, $"matchmake {i} answered {(int)answer.StatusCode}");
        }
        Assert.Empty(queries.Seen);

        // A game added to the catalogue since is found, with one reload of the table.
        var added = await app.AddGameAsync(maxPlayers: 2);
        using (var client = app.Client(users[1]))
        using (var answer = await client.PostAsync("/lobby/matchmake", Json($"{{\"game-id\":{added.Id}}}")))
            Assert.Equal(HttpStatusCode.Created, answer.StatusCode);
        Assert.Single(queries.Seen);
        using (var client = app.Client(users[1]))
        using (var missing = await client.PostAsync("/lobby/matchmake", Json("{\"game-id\":999999}")))
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    private string DatabaseName()
    {
        using var scope = app.Factory.Services.CreateScope();
        return scope.ServiceProvider.GetRequiredService<PaperclipDbContext>().Database.GetDbConnection().Database;
    }

    /// <summary>The queries EF Core reads from <c>games</c> in one database, seen through its diagnostic events.</summary>
    private sealed partial class GameQueries : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
    {
        private readonly string _database;
        private readonly IDisposable _listeners;
        private readonly ConcurrentBag<IDisposable> _subscriptions = [];

        public GameQueries(string database)
        {
            _database = database;
            _listeners = DiagnosticListener.AllListeners.Subscribe(this);
        }

        public ConcurrentQueue<string> Seen { get; } = new();

        public void OnNext(DiagnosticListener value)
        {
            if (value.Name == DbLoggerCategory.Name)
                _subscriptions.Add(value.Subscribe(this));
        }

        public void OnNext(KeyValuePair<string, object?> value)
        {
            // Every query's reader is disposed (EF Core caches whether to raise CommandExecuting for a while).
            if (value.Key == RelationalEventId.DataReaderDisposing.Name && value.Value is DataReaderDisposingEventData { Command: DbCommand command }
                && command.Connection?.Database == _database && GamesTable().IsMatch(command.CommandText))
                Seen.Enqueue(command.CommandText);
        }

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }

        public void Dispose()
        {
            _listeners.Dispose();
            foreach (var subscription in _subscriptions)
                subscription.Dispose();
        }

        [GeneratedRegex(@"\bFROM games\b")]
        private static partial Regex GamesTable();
    }
}
