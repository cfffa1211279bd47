using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Paperclip.Games.RockPaperScissors;

namespace Paperclip.GameHost.Tests;

/// <summary>
/// <c>/metrics</c> while a game runs, and readiness following the game host. Alone in the test
/// process: OpenTelemetry exports every meter of a name in the process, so another server
/// running meanwhile would mix its figures in.
/// </summary>
[Collection(nameof(MetricsTests))]
public sealed class MetricsTests
{
    [Fact]
    public async Task Metrics_show_the_game_traffic_the_sessions_and_the_game_host()
    {
        await using var platform = new Platform();
        await using var alice = await platform.RegisterAsync("alice");
        await using var bob = await platform.RegisterAsync("bob");
        var lobby = await alice.PostAsync("/lobby/matchmake", new Dictionary<string, string> { ["game-name"] = "RPS" }, HttpStatusCode.Created);
        await alice.JoinAsync(lobby);
        await bob.JoinAsync(await bob.PostAsync("/lobby/matchmake", new Dictionary<string, string> { ["game-name"] = "RPS" }, HttpStatusCode.OK));
        await Wait.UntilAsync(async () => (await alice.GetAsync("/lobby/members")).EnumerateObject().First().Value.GetArrayLength() == 2, "both joined");
        alice.Choose(Choice.Rock);
        bob.Choose(Choice.Paper);
        alice.Results.Next();
        bob.Results.Next();

        using var http = platform.CreateClient();
        var text = await http.GetStringAsync("/metrics", Platform.Token);
        // The transport's meter is the process's (other tests' servers count too): at least this game's share.
        AtLeast(text, 2, "paperclip_transport_sessions", null);
        AtLeast(text, 2, "paperclip_transport_handshakes_completed_total", null);
        AtLeast(text, 2, "paperclip_transport_messages_total", "network_io_direction=\"receive\"");
        AtLeast(text, 2, "paperclip_transport_messages_total", "network_io_direction=\"transmit\"");
        AtLeast(text, 1, "paperclip_transport_datagrams_total", "network_io_direction=\"receive\"");
        AtLeast(text, 1, "paperclip_transport_bytes_total", "network_io_direction=\"transmit\"");
        AtLeast(text, 1, "paperclip_transport_rtt_seconds_count", null);
        Assert.Contains("paperclip_transport_drops_total{", text, StringComparison.Ordinal);
        Assert.Contains("reason=\"aead_failure\"", text, StringComparison.Ordinal);
        Exactly(text, 1, "paperclip_gamehost_lobbies", null);
        Exactly(text, 2, "paperclip_gamehost_players", null);
        Exactly(text, 2, "paperclip_backend_lobby_members", null);
        Exactly(text, 1, "paperclip_backend_lobbies", "state=\"full\"");
        Exactly(text, 0, "paperclip_backend_lobbies", "state=\"open\"");
    }

    [Fact]
    public async Task Readiness_follows_the_game_host_and_liveness_does_not()
    {
        await using var platform = new Platform();
        using var http = platform.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready", Platform.Token)).StatusCode);

        await ((IHostedService)platform.Services.GetRequiredService<LobbyGameServerHost>()).StopAsync(Platform.Token);
        using var ready = await http.GetAsync("/health/ready", Platform.Token);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal("Unhealthy", await ready.Content.ReadAsStringAsync(Platform.Token));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live", Platform.Token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health", Platform.Token)).StatusCode); // the database still answers
    }

    private static void AtLeast(string text, double minimum, string name, string? label)
    {
        var values = Samples(text, name, label);
        Assert.True(values.Count == 1 && values[0] >= minimum, $"{name} {label}: [{string.Join(", ", values)}], expected at least {minimum}:\n{Paperclip(text)}");
    }

    private static void Exactly(string text, double expected, string name, string? label)
    {
        var values = Samples(text, name, label);
        Assert.True(values.Count == 1 && values[0] == expected, $"{name} {label}: [{string.Join(", ", values)}], expected {expected}:\n{Paperclip(text)}");
    }

    private static List<double> Samples(string text, string name, string? label) =>
        text.Split('\n')
            .Where(line => line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal))
            .Where(line => label is null || line.Contains(label, StringComparison.Ordinal))
            .Select(line => double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture))
            .ToList();

    private static string Paperclip(string text) => string.Join('\n', text.Split('\n').Where(l => l.StartsWith("paperclip", StringComparison.Ordinal)));
}

[CollectionDefinition(nameof(MetricsTests), DisableParallelization = true)]
public sealed class MetricsTestsAlone
{
}
