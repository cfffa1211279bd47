using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Paperclip.GameHost.Agones;

namespace Paperclip.GameHost.Tests;

/// <summary>
/// The Agones adapter against a recorder of the SDK sidecar's documented REST paths (no sidecar
/// can run here): a real HTTP server on loopback that keeps what it was sent.
/// </summary>
public sealed class AgonesTests
{
    [Fact]
    public async Task A_game_host_reports_ready_then_health_on_its_clock_then_shutdown()
    {
        await using var sidecar = await SidecarRecorder.StartAsync(refuseFirstReady: false);
        var platform = new Platform(new() { [AgonesSdk.PortVariable] = sidecar.Port.ToString(CultureInfo.InvariantCulture) });
        try
        {
            _ = platform.Server; // starts the host
            await Wait.UntilAsync(() => Task.FromResult(sidecar.Count("/health") == 1), "the first health ping was sent");
            Assert.Equal(1, sidecar.Count("/ready"));

            // One ping per HealthSeconds (2) of the host's clock, and none in between.
            platform.Time.Advance(TimeSpan.FromSeconds(1));
            platform.Time.Advance(TimeSpan.FromSeconds(1));
            await Wait.UntilAsync(() => Task.FromResult(sidecar.Count("/health") == 2), "a second health ping");
            platform.Time.Advance(TimeSpan.FromSeconds(2));
            await Wait.UntilAsync(() => Task.FromResult(sidecar.Count("/health") == 3), "a third health ping");
            platform.Time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(3, sidecar.Count("/health"));
            Assert.Equal(0, sidecar.Count("/shutdown"));
        }
        finally
        {
            await platform.DisposeAsync();
        }

        Assert.Equal(1, sidecar.Count("/shutdown"));
        Assert.All(sidecar.Requests, r => Assert.Equal(("POST", "application/json", "{}"), (r.Method, r.ContentType, r.Body)));
        Assert.Equal("/shutdown", sidecar.Requests[^1].Path);
    }

    [Fact]
    public async Task A_refused_ready_is_tried_again_on_the_hosts_clock()
    {
        // The sidecar may start after the game server.
        await using var sidecar = await SidecarRecorder.StartAsync(refuseFirstReady: true);
        await using var platform = new Platform(new() { [AgonesSdk.PortVariable] = sidecar.Port.ToString(CultureInfo.InvariantCulture) });
        _ = platform.Server;
        await Wait.UntilAsync(() => Task.FromResult(sidecar.Count("/ready") == 1), "Ready was sent");
        Assert.Equal(0, sidecar.Count("/health"));
        // Nothing more until the clock moves (the retry waits RetrySeconds = 1 on it).
        await Task.Delay(200, Platform.Token);
        Assert.Equal(1, sidecar.Count("/ready"));
        await Wait.UntilAsync(() =>
        {
            platform.Time.Advance(TimeSpan.FromSeconds(1));
            return Task.FromResult(sidecar.Count("/ready") == 2);
        }, "Ready was sent again");
        await Wait.UntilAsync(() => Task.FromResult(sidecar.Count("/health") >= 1), "health pings began");
    }

    [Fact]
    public async Task Without_the_agones_port_nothing_is_sent()
    {
        await using var platform = new Platform();
        _ = platform.Server;
        Assert.Empty(platform.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<AgonesLifecycle>());
    }

    [Fact]
    public async Task A_bad_agones_port_stops_the_start_naming_it()
    {
        await using var platform = new Platform(new() { [AgonesSdk.PortVariable] = "seventy" });
        var failure = Record.Exception(() => platform.Server);
        while (failure is AggregateException { InnerExceptions.Count: 1 } aggregate)
            failure = aggregate.InnerException;
        var invalid = Assert.IsType<Microsoft.Extensions.Options.OptionsValidationException>(failure);
        Assert.Contains(AgonesSdk.PortVariable, invalid.Message, StringComparison.Ordinal);
    }

    private sealed class SidecarRecorder : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<Recorded> _requests = new();
        private int _readies;

        private SidecarRecorder(bool refuseFirstReady)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            _app = builder.Build();
            foreach (var path in new[] { "/ready", "/health", "/shutdown" })
            {
                _app.MapPost(path, async (HttpContext context) =>
                {
                    using var reader = new StreamReader(context.Request.Body);
                    _requests.Enqueue(new Recorded(context.Request.Method, path, context.Request.ContentType, await reader.ReadToEndAsync()));
                    if (path == "/ready" && refuseFirstReady && Interlocked.Increment(ref _readies) == 1)
                        return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
                    return Results.Json(new { });
                });
            }
        }

        public int Port { get; private set; }

        public IReadOnlyList<Recorded> Requests => [.. _requests];

        public int Count(string path) => _requests.Count(r => r.Path == path);

        public static async Task<SidecarRecorder> StartAsync(bool refuseFirstReady)
        {
            var recorder = new SidecarRecorder(refuseFirstReady);
            await recorder._app.StartAsync(Platform.Token);
            var address = recorder._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            recorder.Port = new Uri(address).Port;
            return recorder;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }

    private sealed record Recorded(string Method, string Path, string? ContentType, string Body);
}
