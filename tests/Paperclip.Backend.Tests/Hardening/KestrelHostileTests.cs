using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Paperclip.Backend.Tests.Hardening;

/// <summary>
/// What the in-memory test server cannot send: raw HTTP/1.1 to the real server (Kestrel) with
/// Content-Length lies, stalled and truncated bodies, chunked bodies over the limit or malformed,
/// and broken framing headers. Never 5xx; the app's 4xx are problem+json (requests Kestrel itself
/// rejects before the app runs get its bare 4xx); the server answers /health afterwards.
/// </summary>
public sealed partial class KestrelHostileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("paperclip-raw-").FullName;
    private readonly ITestOutputHelper _output;

    public KestrelHostileTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Framing_lies_and_oversized_bodies_never_give_5xx()
    {
        using var server = await ServerProcess.StartAsync(_directory, Path.Combine(_directory, "paperclip.db"), TimeSpan.FromSeconds(60));
        string token;
        using (var client = server.Client())
        {
            using var registered = await client.PostAsJsonAsync("/auth/register", new { username = "raw", password = "Raw-Secret-1" });
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
            using var request = new HttpRequestMessage(HttpMethod.Get, "/auth/token");
            request.Headers.Authorization = Infrastructure.AppFixture.Basic("raw", "Raw-Secret-1");
            using var response = await client.SendAsync(request);
            token = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        }

        var auth = $"Authorization: Bearer {token}\r\n";
        const string valid = "{\"username\":\"nobody\",\"password\":\"x\"}";
        var big = new string('a', 100_000);
        const string latin1Body = "{\"username\":\"\u00ff\u00fe\",\"password\":\"x\"}";
        var cases = new List<RawCase>
        {
            new("Content-Length longer than the body, then EOF", $"POST /friends/add HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{valid}", HalfClose: true),
            new("Content-Length longer than the body, then silence", $"POST /friends/add HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{valid}", HalfClose: false, Expect: 400),
            new("Content-Length shorter than the body", $"POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{valid}", HalfClose: false, Expect: 400),
            new("Content-Length over the limit, small body", $"POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{valid}", HalfClose: false, Expect: 413),
            new("Content-Length over the limit with Expect: 100-continue", $"POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n", HalfClose: false, Expect: 413),
            new("1 MB body with a true Content-Length", $"POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {(1 << 20) + 15}\r\n\r\n{{\"username\":\"{new string('u', 1 << 20)}\"}}", HalfClose: false, Expect: 413),
            new("Chunked body over the limit", $"POST /friends/add HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + Chunked("{\"username\":\"" + big + "\"}"), HalfClose: false, Expect: 413),
            new("Chunked body over the limit on a GET", $"GET /lobby/ HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + Chunked("{\"lobby-id\":\"" + big + "\"}"), HalfClose: false, Expect: 413),
            new("Malformed chunk size", $"POST /friends/add HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{valid}\r\n0\r\n\r\n", HalfClose: false, Expect: 400),
            new("Chunked body without its last chunk", $"POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{{\"use\r\n", HalfClose: true),
            new("Chunk longer than declared", $"POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{valid}\r\n0\r\n\r\n", HalfClose: false, Expect: 400),
            new("Both Content-Length and chunked", $"POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n" + Chunked(valid), HalfClose: false),
            new("Negative Content-Length", $"POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n{valid}", HalfClose: false, Expect: 400),
            new("Content-Length beyond long", $"POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999999999999999\r\n\r\n{valid}", HalfClose: false, Expect: 400),
            new("Two different Content-Lengths", $"POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\nContent-Length: 20\r\n\r\n{valid}", HalfClose: false, Expect: 400),
            new("Body on a GET with a lying length", $"GET /lobby/?lobby-id=abc HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: 50\r\n\r\n{{\"lobby-id\":1}}", HalfClose: true),
            new("Invalid UTF-8 in the body", $"POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {latin1Body.Length}\r\n\r\n{latin1Body}", HalfClose: false, Expect: 400, Latin1: true),
            new("Invalid UTF-8 in the path", "GET /lobby/\u00ff\u00fe HTTP/1.1\r\nHost: x\r\n\r\n", HalfClose: false, Latin1: true),
            new("20 kB request line", $"GET /lobby/?lobby-id={new string('1', 20_000)} HTTP/1.1\r\nHost: x\r\n{auth}\r\n", HalfClose: false, Expect: 414),
            new("Garbage instead of HTTP", "\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u01fc\u0003\u0003 hello\r\n\r\n", HalfClose: false, Expect: 400, Latin1: true),
        };

        var results = await Task.WhenAll(cases.Select(c => SendAsync(server.BaseAddress, c)));
        var failures = new List<string>();
        foreach (var (rawCase, answer) in cases.Zip(results))
        {
            _output.WriteLine($"{rawCase.Name}: {answer.Summary}");
            if (answer.Statuses.Any(s => s >= 500))
            {
                failures.Add($"{rawCase.Name}: {answer.Summary}");
            }
            else if (rawCase.Expect is { } expected && answer.FirstStatus != expected)
            {
                failures.Add($"{rawCase.Name}: expected {expected}, got {answer.Summary}");
            }
            else if (answer.FirstStatus is >= 400 and < 500 && answer.HasBody && answer.ContentType != "application/problem+json")
            {
                failures.Add($"{rawCase.Name}: a {answer.FirstStatus} with a '{answer.ContentType}' body");
            }
        }

        Assert.False(server.HasExited, "The server died:\n" + server.Log);
        using (var client = server.Client())
        using (var health = await client.GetAsync("/health"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string Chunked(string body)
    {
        var builder = new StringBuilder();
        for (var offset = 0; offset < body.Length; offset += 8192)
        {
            var length = Math.Min(8192, body.Length - offset);
            builder.Append(CultureInfo.InvariantCulture, $"{length:x}\r\n").Append(body, offset, length).Append("\r\n");
        }

        return builder.Append("0\r\n\r\n").ToString();
    }

    // Sends the bytes, optionally half-closes, and reads until the server closes or 15 s pass.
    private static async Task<RawAnswer> SendAsync(Uri server, RawCase rawCase)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        var stream = tcp.GetStream();
        // Connection: close, so that the server ends the connection once it has answered.
        var text = rawCase.Request.Replace("Host: x\r\n", "Host: x\r\nConnection: close\r\n", StringComparison.Ordinal);
        var bytes = rawCase.Latin1 ? Encoding.Latin1.GetBytes(text) : Encoding.UTF8.GetBytes(text);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await stream.WriteAsync(bytes, timeout.Token);
            if (rawCase.HalfClose)
            {
                tcp.Client.Shutdown(SocketShutdown.Send);
            }
        }
        catch (IOException)
        {
            // The server may answer and close before it has read everything.
        }

        var received = new MemoryStream();
        var buffer = new byte[16384];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // Reset, or kept open: what arrived is the answer.
        }

        return RawAnswer.Parse(Encoding.Latin1.GetString(received.ToArray()));
    }

    private sealed record RawCase(string Name, string Request, bool HalfClose, int? Expect = null, bool Latin1 = false);

    private sealed partial record RawAnswer(IReadOnlyList<int> Statuses, string? ContentType, bool HasBody, string Text)
    {
        public int? FirstStatus => Statuses.Count > 0 ? Statuses[0] : null;

        public string Summary => Statuses.Count == 0
            ? "no answer (connection closed)"
            : $"{string.Join(", ", Statuses)} {ContentType ?? "(no body)"} {AnswerCheck.Snip(Text.Split("\r\n\r\n", 2).ElementAtOrDefault(1) ?? string.Empty, 120)}";

        public static RawAnswer Parse(string text)
        {
            var statuses = StatusLine().Matches(text).Where(m => m.Groups[1].Value != "100").Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
            var head = text.Split("\r\n\r\n", 2)[0];
            var contentType = ContentTypeHeader().Match(head) is { Success: true } type ? type.Groups[1].Value.Split(';')[0].Trim() : null;
            var length = ContentLengthHeader().Match(head) is { Success: true } l ? long.Parse(l.Groups[1].Value, CultureInfo.InvariantCulture) : -1;
            return new RawAnswer(statuses, contentType, contentType is not null || length > 0 || head.Contains("chunked", StringComparison.OrdinalIgnoreCase), text);
        }

        [GeneratedRegex(@"HTTP/1\.[01] (\d{3})")]
        private static partial Regex StatusLine();

        [GeneratedRegex(@"(?im)^Content-Type:\s*([^\r\n]+)")]
        private static partial Regex ContentTypeHeader();

        [GeneratedRegex(@"(?im)^Content-Length:\s*(\d+)")]
        private static partial Regex ContentLengthHeader();
    }
}
