using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Paperclip.Protocol.Certificates;
using Paperclip.Transport;

namespace Paperclip.Echo;

/// <summary>
/// <c>paperclip-echo --port P [--protocol-version 1]</c>: binds 127.0.0.1:P, prints
/// <c>listening 127.0.0.1:P server-key BASE64</c> once ready, echoes every application message
/// back to its sender with the same delivery, channel and flags, in the order received, and stops
/// with SERVER_DISCONNECT on SIGTERM or Ctrl+C.
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        var port = new Option<int>("--port") { Description = "UDP port on 127.0.0.1 (0: one the system picks)", HelpName = "P", Required = true };
        port.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 0 or > 65_535)
                r.AddError("--port must be 0 … 65535.");
        });
        var version = new Option<int>("--protocol-version")
        {
            Description = "Highest protocol version accepted: 2 (versions 1 and 2, the default) or 1 (version 1 only)",
            HelpName = "1|2",
            DefaultValueFactory = _ => 2,
        };
        version.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is not (1 or 2))
                r.AddError("--protocol-version must be 1 or 2.");
        });
        var command = new RootCommand(
            "An interop echo endpoint for other Paperclip implementations. DEVELOPMENT TRUST: it accepts ANY valid self-signed "
            + "account certificate, whoever made it — never expose it beyond a test machine. It signs its own server certificate "
            + "with a key made at start, printed as server-key (SubjectPublicKeyInfo DER, base64): clients trust that key.")
        {
            port, version,
        };
        command.SetAction((result, cancellationToken) => RunAsync(result.GetValue(port), result.GetValue(version), cancellationToken));
        var parsed = command.Parse(args);
        if (parsed.Errors.Count == 0)
            return await parsed.InvokeAsync().ConfigureAwait(false);
        foreach (var error in parsed.Errors)
            await Console.Error.WriteLineAsync(error.Message).ConfigureAwait(false);
        await Console.Error.WriteLineAsync("(--help lists the options.)").ConfigureAwait(false);
        return 2;
    }

    private static async Task<int> RunAsync(int port, int protocolVersion, CancellationToken cancellationToken)
    {
        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var certificate = ServerCertificate.Create(serverKey, DateTimeOffset.UtcNow.AddMinutes(-5), TimeSpan.FromDays(30), commonName: "127.0.0.1");
        await using var server = new PaperclipServer(new PaperclipServerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, port),
            Certificate = certificate,
            PrivateKey = serverKey,
            CertificateValidator = new SelfSignedCertificateValidator(TimeProvider.System),
            MaxProtocolVersion = protocolVersion,
            // Plaintext comes back plaintext, sealed comes back sealed: the peer's choice either way.
            EncryptionPolicy = EncryptionPolicy.Optional,
            // Echoes are sent from the receive handler, which cannot wait: room for a test's bursts.
            MaxSendBufferBytes = 64 << 20,
        });
        // Raised on the I/O loop in arrival order, so each client's echoes leave in that order.
        server.DataReceived += static (connection, data, message) =>
        {
            if (connection.IsConnected)
                connection.TrySend(data, message.Delivery, message.Channel, message.SendOptions);
        };
        server.Start();

        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stopped.TrySetResult();
        });
        await using var cancelled = cancellationToken.Register(() => stopped.TrySetResult());
        Console.Out.WriteLine($"listening {server.LocalEndPoint} server-key {Convert.ToBase64String(serverKey.ExportSubjectPublicKeyInfo())}");
        await Console.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        await stopped.Task.ConfigureAwait(false);
        return 0;
    }
}
