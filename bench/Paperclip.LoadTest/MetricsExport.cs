using System.Net;
using System.Net.Sockets;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Paperclip.LoadTest;

/// <summary>
/// The Paperclip.Transport meter exported as the server does it (OpenTelemetry, Prometheus text
/// format) while a paperclip+metrics run measures: a scrape endpoint on loopback, scraped 1 s in
/// and then every <see cref="ScrapeInterval"/>, so every observable instrument is read and the RTT
/// histogram is live. Each scrape opens a new connection, as a cost-conscious worst case (a
/// Prometheus server keeps its connection open).
/// </summary>
internal sealed class MetricsExport : IAsyncDisposable
{
    private readonly MeterProvider _provider;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _scraper;

    private MetricsExport(int port)
    {
        _provider = Sdk.CreateMeterProviderBuilder()
            .AddMeter("Paperclip.Transport")
            .AddPrometheusHttpListener(o =>
            {
                o.Host = "127.0.0.1";
                o.Port = port;
            })
            .Build();
        _scraper = ScrapeAsync(new IPEndPoint(IPAddress.Loopback, port));
    }

    /// <summary>Time between scrapes after the first (the command line's <c>--scrape-interval</c>).</summary>
    public static TimeSpan ScrapeInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Scrapes that read the transport's instruments.</summary>
    public int Scrapes { get; private set; }

    /// <summary>Runs <paramref name="run"/>, exporting meanwhile when <paramref name="spec"/> asks for it.</summary>
    public static async Task<Result> AroundAsync(ImplSpec spec, Func<Task<Result>> run)
    {
        if (!spec.Metrics)
            return await run().ConfigureAwait(false);
        var export = new MetricsExport(FreeTcpPort());
        Result result;
        try
        {
            result = await run().ConfigureAwait(false);
        }
        finally
        {
            await export.DisposeAsync().ConfigureAwait(false);
        }
        if (export.Scrapes == 0)
            throw new InvalidOperationException("No scrape of the metrics endpoint read the transport's instruments.");
        return result with { Note = $"{export.Scrapes} scrapes" + (result.Note is { } note ? "; " + note : "") };
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _scraper.ConfigureAwait(false);
        _provider.Dispose();
        _stop.Dispose();
    }

    // A Prometheus server is another process: its reading must not be counted as this one's
    // allocations. So the scrape is a plain HTTP/1.1 GET on a socket into one reused buffer.
    private async Task ScrapeAsync(IPEndPoint endPoint)
    {
        var request = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"u8.ToArray();
        var buffer = new byte[1 << 20];
        try
        {
            var wait = TimeSpan.FromSeconds(1);
            while (true)
            {
                await Task.Delay(wait, _stop.Token).ConfigureAwait(false);
                wait = ScrapeInterval;
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(endPoint, _stop.Token).ConfigureAwait(false);
                await socket.SendAsync(request, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                var length = 0;
                int read;
                while ((read = await socket.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, _stop.Token).ConfigureAwait(false)) > 0)
                    length += read;
                // Before the run's first server starts the transport's instruments do not exist yet.
                if (buffer.AsSpan(0, length).IndexOf("paperclip_transport_messages_total"u8) >= 0)
                    Scrapes++;
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
