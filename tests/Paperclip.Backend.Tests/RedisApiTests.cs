using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Paperclip.Backend.Lobbies;
using Paperclip.Backend.Lobbies.Redis;
using Paperclip.Backend.Tests.Infrastructure;
using static Paperclip.Backend.Tests.Infrastructure.Http;

namespace Paperclip.Backend.Tests;

/// <summary>The API on the Redis registry (a real redis-server): 503 problem+json while the registry has no state, then the lobbies a host serves.</summary>
public sealed class RedisApiTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task Lobby_endpoints_answer_503_problem_json_until_a_host_registers_then_serve_its_lobbies()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Paperclip:Redis:Configuration"] = redis.Configuration,
            ["Paperclip:Redis:KeyPrefix"] = "api" + Guid.NewGuid().ToString("N"),
        };
        await using var factory = await PaperclipFactory.CreateAsync(Db.Sqlite, s =>
        {
            foreach (var (key, value) in settings)
                s[key] = value;
        });
        factory.ConfigureServices = services => services.AddRedisLobbyRegistry(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        using var client = factory.CreateClient();
        using (var registered = await client.PostAsync("/auth/register", Json("{\"username\":\"redisuser\",\"password\":\"pw-123\"}")))
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        client.DefaultRequestHeaders.Authorization = AppFixture.Basic("redisuser", "pw-123");
        var token = (await client.GetFromJsonAsync<JsonElement>("/auth/token")).GetProperty("token").GetString()!;
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        Assert.IsType<RedisLobbyRegistry>(factory.Services.GetRequiredService<ILobbyRegistry>());

        foreach (var request in new Func<Task<HttpResponseMessage>>[]
        {
            () => client.GetAsync("/lobby/all"),
            () => client.GetAsync("/lobby/?lobby-id=1"),
            () => client.PostAsync("/lobby/matchmake", Json("{\"game-id\":1}")),
        })
        {
            using var response = await request();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        using (var ready = await client.GetAsync("/health/ready"))
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

        var host = new RedisGameHostClient(factory.Services.GetRequiredService<RedisLobbyStore>(), "api-host", "games.example", PortRange.Parse("43000-43009"));
        await host.RegisterAsync();
        using var matchmade = await client.PostAsync("/lobby/matchmake", Json("{\"game-id\":1}"));
        Assert.Equal(HttpStatusCode.Created, matchmade.StatusCode);
        var lobby = await matchmade.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(43000, lobby.GetProperty("lobby-addr")[1].GetInt32());
        var all = await client.GetFromJsonAsync<JsonElement>("/lobby/all");
        Assert.Single(all.EnumerateObject());
    }
}
