using System.Net;
using System.Net.Sockets;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Paperclip.LoadTest;

/// <summary>
/// The Paperclip.Transport meter exported as the server does it (OpenTelemetry, Prometheus text
/// format) while a paperclip+metrics run measures: a scrape endpoint on loopback, scraped once a
/// second — more often than a Prometheus server would — so every observable instrument is read
/// over the measurement window and the RTT histogram is live.
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
        _scraper = ScrapeAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
    }

    /// <summary>Scrapes made; each one read every instrument.</summary>
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
            throw new InvalidOperationException("The metrics endpoint was never scraped.");
        return result with { Note = $"{export.Scrapes} scrapes" + (result.Note is { } note ? "; " + note : "") };
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _scraper.ConfigureAwait(false);
        _provider.Dispose();
        _stop.Dispose();
    }

    private async Task ScrapeAsync(Uri uri)
    {
        using var http = new HttpClient();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                var text = await http.GetStringAsync(uri, _stop.Token).ConfigureAwait(false);
                if (!text.Contains("paperclip_transport_messages", StringComparison.Ordinal))
                    throw new InvalidOperationException("The scrape has no paperclip_transport_messages:\n" + text);
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
