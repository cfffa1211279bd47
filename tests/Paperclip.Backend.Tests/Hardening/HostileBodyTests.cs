using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Paperclip.Backend.Lobbies;
using Paperclip.Backend.Security;
using Paperclip.Backend.Tests.Infrastructure;

namespace Paperclip.Backend.Tests.Hardening;

/// <summary>
/// Hostile requests on every route the app maps (read from its endpoint data source): malformed,
/// oversized and mistyped bodies, wrong Content-Types, Content-Length lies, chunked bodies over the
/// limit, garbage query parameters — with and without valid credentials — then a seeded random
/// mutation loop. Never 5xx; every 4xx is problem+json with status and title; /health answers after.
/// </summary>
public abstract class HostileBodyTests(AppFixture app)
{
    private const int Parallelism = 4;
    private static readonly string[] OffMethods = ["PUT", "PATCH", "DELETE", "OPTIONS"];

    [Fact]
    public async Task Every_route_survives_the_hostile_matrix()
    {
        var context = await HostileContext.CreateAsync(app);
        var routes = HostileRequests.Routes(app.Factory.Services);
        AssertCoversTheApi(routes);

        var requests = new List<HostileRequest>();
        foreach (var route in routes)
        {
            foreach (var auth in new[] { AuthKind.None, AuthKind.Bearer })
            {
                var matrix = HostileRequests.Matrix(route, auth, context.BaseFields);

                // Without credentials an auth route answers 401 before it reads the body: a sample is
                // enough in the default run.
                requests.AddRange(auth == AuthKind.None && route.RequiresAuth && !HardeningSettings.LongRun
                    ? matrix.Where((_, i) => i % 8 == 0)
                    : matrix);
            }

            // A method the route does not have.
            foreach (var method in OffMethods.Where(m => routes.All(r => r.Path != route.Path || r.Method != m)))
            {
                requests.Add(new HostileRequest(method, route.Path, "{}"u8.ToArray(), "application/json", AuthKind.Bearer));
            }
        }

        var failures = await context.SendAllAsync(requests, Parallelism);
        await context.AssertHealthyAsync();
        AnswerCheck.NoFailures(failures, requests.Count);
    }

    [Fact]
    public async Task Random_mutations_never_give_5xx()
    {
        var seed = HardeningSettings.Seed(20261124);
        var count = HardeningSettings.LongRun ? 40_000 : 2_500;
        var context = await HostileContext.CreateAsync(app);
        var routes = HostileRequests.Routes(app.Factory.Services);
        var random = new Random(seed);
        var failures = new List<string>();
        const int batch = 500;
        for (var done = 0; done < count; done += batch)
        {
            var requests = Enumerable.Range(0, Math.Min(batch, count - done)).Select(_ => Mutations.Next(random, routes, context.BaseFields)).ToList();
            failures.AddRange(await context.SendAllAsync(requests, Parallelism));
            await context.AssertHealthyAsync();
            await context.FreePortsAsync();
        }

        AnswerCheck.NoFailures(failures.Select(f => $"(seed {seed}) {f}").ToList(), count);
    }

    private static void AssertCoversTheApi(IReadOnlyList<Route> routes)
    {
        var paths = routes.Select(r => r.Path.TrimEnd('/')).ToHashSet(StringComparer.Ordinal);
        foreach (var expected in new[] { "/auth/register", "/auth/token", "/friends/add", "/friend/remove", "/lobby/matchmake", "/health" })
        {
            Assert.Contains(expected, paths);
        }
    }

    /// <summary>The users, credentials and server of one hostile run.</summary>
    private sealed class HostileContext
    {
        private readonly AppFixture _app;
        private readonly TestUser _user;
        private string _token;

        private HostileContext(AppFixture app, TestUser user, TestUser peer)
        {
            _app = app;
            _user = user;
            _token = user.Token;
            BaseFields = HostileRequests.BaseFields(peer.Username, HostileRequests.SelfSignedCertificate());
        }

        public Dictionary<string, string> BaseFields { get; }

        public static async Task<HostileContext> CreateAsync(AppFixture app) =>
            new(app, await app.RegisterAsync("hostile"), await app.RegisterAsync("peer"));

        public AuthenticationHeaderValue? Authorization(AuthKind kind) => kind switch
        {
            AuthKind.Bearer => new AuthenticationHeaderValue("Bearer", Volatile.Read(ref _token)),
            AuthKind.Basic => AppFixture.Basic(_user.Username, _user.Password),
            _ => null,
        };

        /// <summary>Sends the requests, a few at a time; returns the failures.</summary>
        public async Task<List<string>> SendAllAsync(IReadOnlyList<HostileRequest> requests, int parallelism)
        {
            var failures = new ConcurrentQueue<string>();
            using var client = _app.Anonymous();
            client.Timeout = TimeSpan.FromSeconds(60);
            await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (request, cancellationToken) =>
            {
                try
                {
                    using var message = HostileRequests.Message(request, Authorization);
                    using var response = await client.SendAsync(message, cancellationToken);
                    if (await AnswerCheck.ProblemAsync(response) is { } failure)
                    {
                        failures.Enqueue($"{failure}  <=  {request}");
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or IOException or TaskCanceledException)
                {
                    failures.Enqueue($"exception {ex.GetType().Name}: {AnswerCheck.Snip(ex.Message)}  <=  {request}");
                }
            });
            return [.. failures];
        }

        public async Task AssertHealthyAsync()
        {
            using var client = _app.Anonymous();
            using var response = await client.GetAsync("/health");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        /// <summary>Lobbies created by the random requests hold ports: let them be pruned (on the injected clock) before the range runs out.</summary>
        public async Task FreePortsAsync()
        {
            var registry = _app.Service<ILobbyRegistry>();
            if ((await registry.ListAsync()).Count < 200)
            {
                return;
            }

            _app.Factory.Time.Advance(TimeSpan.FromMinutes(5));
            await registry.PruneAsync();
            Volatile.Write(ref _token, _app.Service<TokenService>().Issue(_user.Id, _user.Username).Token);
        }
    }

    /// <summary>The seeded random requests: valid bodies, mutated.</summary>
    private static class Mutations
    {
        private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];
        private static readonly string[] Tokens = ["{", "}", "[", "]", "\"", ":", ",", "null", "1e999", "-", "0", "\\u", "\\ud800", "\\", "\u00ff", "\u0000", "true", "{\"a\":{}}", "9223372036854775808"];
        private static readonly string[] Types = ["application/json", "application/json", "application/json", "application/json; charset=utf-8", "text/plain", "application/problem+json", "application/x-www-form-urlencoded"];

        public static HostileRequest Next(Random random, IReadOnlyList<Route> routes, Dictionary<string, string> baseFields)
        {
            var route = routes[random.Next(routes.Count)];
            var method = random.Next(10) == 0 ? Methods[random.Next(Methods.Length)] : route.Method;
            var auth = random.Next(20) switch
            {
                < 10 => AuthKind.Bearer,
                < 14 => AuthKind.None,
                < 17 => AuthKind.Basic,
                _ => AuthKind.Garbage,
            };
            var path = route.Path;
            if (random.Next(4) == 0)
            {
                var field = HostileRequests.KnownFields[random.Next(HostileRequests.KnownFields.Length)];
                var value = random.Next(3) == 0 ? Uri.EscapeDataString(RandomText(random, random.Next(0, 30))) : HostileRequests.FieldValues[random.Next(HostileRequests.FieldValues.Length)].Trim('"');
                path += $"?{field}={value}";
            }

            if (random.Next(6) == 0)
            {
                return new HostileRequest(method, path, null, null, auth);
            }

            var fields = baseFields.Where(_ => random.Next(10) < 7)
                .Select(f => random.Next(5) == 0 ? new KeyValuePair<string, string>(f.Key, HostileRequests.FieldValues[random.Next(HostileRequests.FieldValues.Length)]) : f)
                .OrderBy(_ => random.Next())
                .ToList();
            if (fields.Count > 0 && random.Next(10) == 0)
            {
                fields.Add(fields[random.Next(fields.Count)]);
            }

            var body = new List<byte>(Encoding.UTF8.GetBytes(HostileRequests.JsonObject(fields)));
            for (var mutations = random.Next(0, 4); mutations > 0 && body.Count > 0; mutations--)
            {
                var at = random.Next(body.Count);
                switch (random.Next(6))
                {
                    case 0:
                        body[at] ^= (byte)(1 << random.Next(8));
                        break;
                    case 1:
                        body.Insert(at, (byte)random.Next(256));
                        break;
                    case 2:
                        body.InsertRange(at, Encoding.UTF8.GetBytes(Tokens[random.Next(Tokens.Length)]));
                        break;
                    case 3:
                        body.RemoveRange(at, Math.Min(body.Count - at, random.Next(1, 8)));
                        break;
                    case 4:
                        var length = Math.Min(body.Count - at, random.Next(1, 16));
                        body.InsertRange(at, body.GetRange(at, length));
                        break;
                    default:
                        body.RemoveRange(at, body.Count - at);
                        break;
                }
            }

            var type = random.Next(12) == 0 ? null : Types[random.Next(Types.Length)];
            var mode = random.Next(20) switch
            {
                0 => BodyMode.Chunked,
                1 => BodyMode.LengthTooLarge,
                2 => BodyMode.LengthTooSmall,
                _ => BodyMode.Normal,
            };
            return new HostileRequest(method, path, [.. body], type, auth, mode);
        }

        private static string RandomText(Random random, int length)
        {
            var chars = new char[length];
            for (var i = 0; i < length; i++)
            {
                chars[i] = (char)random.Next(1, 0x3000);
            }

            return new string(chars);
        }
    }
}

public sealed class HostileBodyTestsSqlite(SqliteApp app) : HostileBodyTests(app), IClassFixture<SqliteApp>;

public sealed class HostileBodyTestsPostgres(PostgresApp app) : HostileBodyTests(app), IClassFixture<PostgresApp>;
