using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Paperclip.Protocol.Certificates;

namespace Paperclip.Transport.Tests;

/// <summary>The validator that asks the backend over real HTTP, with its cache.</summary>
public sealed class BackendCertificateValidatorTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Asks_the_backend_once_then_answers_from_the_cache_and_a_handshake_succeeds()
    {
        var account = TestPki.Account(77, validator: null, "Luigi");
        await using var backend = new FakeBackend(request =>
        {
            var certificate = Convert.FromBase64String(request.GetProperty("certificate").GetString()!);
            var valid = AccountCertificate.Validate(certificate, AccountKey.ExportPublicKey(account.Key), DateTimeOffset.UtcNow);
            return $$"""{"valid": {{(valid ? "true" : "false")}}, "account-id": {{(valid ? "77" : "null")}}}""";
        });
        using var http = new HttpClient { BaseAddress = backend.BaseAddress };
        var validator = new BackendCertificateValidator(http);

        var server = new PaperclipServer(TestPki.Shared.ServerOptions(validator));
        await using (server)
        {
            server.Start();
            for (var i = 0; i < 2; i++)
            {
                await using var client = new PaperclipClient(TestPki.Shared.ClientOptions(account));
                await client.ConnectAsync(server.LocalEndPoint, Token).WaitAsync(Wait.Timeout, Token);
            }
        }
        Assert.Equal(1, validator.BackendCalls);
        Assert.Equal(1, backend.Requests);
    }

    [Fact]
    public async Task Backend_saying_invalid_or_naming_another_account_gives_no_identity()
    {
        var account = TestPki.Account(78, validator: null);
        var answer = """{"valid": false, "account-id": null}""";
        await using var backend = new FakeBackend(_ => answer);
        using var http = new HttpClient { BaseAddress = backend.BaseAddress };

        Assert.Null(await new BackendCertificateValidator(http).ValidateAsync(account.Certificate, Token));
        answer = """{"valid": true, "account-id": 5}""";
        Assert.Null(await new BackendCertificateValidator(http).ValidateAsync(account.Certificate, Token));
        answer = """{"valid": true, "account-id": 78}""";
        Assert.Equal(new ClientIdentity(78, "player78"), await new BackendCertificateValidator(http).ValidateAsync(account.Certificate, Token));
        Assert.Null(await new BackendCertificateValidator(http).ValidateAsync(new byte[] { 1, 2, 3 }, Token));
        Assert.Equal(3, backend.Requests);
    }

    /// <summary>A minimal HTTP endpoint on a free loopback port standing in for /auth/certificate/validate.</summary>
    private sealed class FakeBackend : IAsyncDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;
        private int _requests;

        public FakeBackend(Func<JsonElement, string> answer)
        {
            var port = FreePort();
            BaseAddress = new Uri($"http://127.0.0.1:{port}/");
            _listener.Prefixes.Add(BaseAddress.ToString());
            _listener.Start();
            _loop = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext context;
                    try
                    {
                        context = await _listener.GetContextAsync();
                    }
                    catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                    {
                        return;
                    }
                    Interlocked.Increment(ref _requests);
                    Assert.Equal("/auth/certificate/validate", context.Request.Url!.AbsolutePath);
                    using var body = await JsonDocument.ParseAsync(context.Request.InputStream);
                    var bytes = Encoding.UTF8.GetBytes(answer(body.RootElement));
                    context.Response.ContentType = "application/json";
                    await context.Response.OutputStream.WriteAsync(bytes);
                    context.Response.Close();
                }
            });
        }

        public Uri BaseAddress { get; }

        public int Requests => Volatile.Read(ref _requests);

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            await _loop;
        }

        private static int FreePort()
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            return ((IPEndPoint)socket.LocalEndPoint!).Port;
        }
    }
}
