using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Paperclip.Protocol;
using Paperclip.Protocol.Certificates;
using Paperclip.Transport;

namespace Paperclip.Echo.Tests;

/// <summary>The echo endpoint as another implementation meets it: its own process, its one ready line, real UDP on loopback.</summary>
public sealed partial class EchoProcessTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Echoes_every_delivery_on_its_channel_with_its_flags_in_order_then_stops_with_server_disconnect_on_sigterm()
    {
        await using var echo = await EchoProcess.StartAsync([]);
        await using var client = NewClient(echo.ServerKey, accountId: 7, protocolVersion: 2);
        var received = new BlockingCollection<(byte[] Data, MessageInfo Info)>();
        var disconnected = new TaskCompletionSource<DisconnectReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.DataReceived += (data, info) => received.Add((data.ToArray(), info));
        client.Disconnected += (_, e) => disconnected.TrySetResult(e.Reason);
        await client.ConnectAsync(echo.EndPoint, Token).WaitAsync(Timeout, Token);
        Assert.Equal(2, client.ProtocolVersion);

        var sent = new List<(byte[] Data, Delivery Delivery, int Channel, SendOptions Options)>();
        for (var i = 0; i < 50; i++)
            sent.Add(([(byte)i, 1], Delivery.ReliableOrdered, 3, SendOptions.None));
        sent.Add((new byte[5000], Delivery.ReliableOrdered, 3, SendOptions.Checksum | SendOptions.Compress)); // fragmented, compressed
        sent.Add(([9], Delivery.Reliable, 0, SendOptions.Checksum));
        sent.Add(([8], Delivery.ReliableSequenced, 63, SendOptions.None));
        foreach (var (data, delivery, channel, options) in sent)
            client.Send(data, delivery, channel, options);

        var back = new List<(byte[] Data, MessageInfo Info)>();
        while (back.Count < sent.Count)
            back.Add(received.Take(new CancellationTokenSource(Timeout).Token));
        // Reliable ordered channel 3 comes back in order, each with what it was sent with.
        var ordered = back.Where(m => m.Info.Delivery == Delivery.ReliableOrdered).ToList();
        Assert.Equal(sent.Where(s => s.Delivery == Delivery.ReliableOrdered).Select(s => s.Data), ordered.Select(m => m.Data));
        Assert.All(ordered, m => Assert.Equal(3, m.Info.Channel));
        var large = ordered[^1].Info;
        Assert.True(large.Flags.HasFlag(PacketFlags.Compressed) && large.Flags.HasFlag(PacketFlags.Checksum) && large.IsEncrypted);
        var reliable = Assert.Single(back, m => m.Info.Delivery == Delivery.Reliable);
        Assert.Equal([9], reliable.Data);
        Assert.True(reliable.Info.Flags.HasFlag(PacketFlags.Checksum));
        var sequenced = Assert.Single(back, m => m.Info.Delivery == Delivery.ReliableSequenced);
        Assert.Equal(63, sequenced.Info.Channel);

        echo.Terminate();
        Assert.Equal(DisconnectReason.ServerDisconnect, await disconnected.Task.WaitAsync(Timeout, Token));
        Assert.Equal(0, await echo.ExitCodeAsync());
    }

    [Fact]
    public async Task With_protocol_version_1_a_version_2_client_is_refused_and_one_that_may_fall_back_gets_version_1()
    {
        await using var echo = await EchoProcess.StartAsync(["--protocol-version", "1"]);
        await using var strict = NewClient(echo.ServerKey, accountId: 8, protocolVersion: 2);
        await Assert.ThrowsAsync<VersionUnsupportedException>(() => strict.ConnectAsync(echo.EndPoint, Token).WaitAsync(Timeout, Token));

        await using var flexible = NewClient(echo.ServerKey, accountId: 9, protocolVersion: 2, allowFallback: true);
        var received = new BlockingCollection<byte[]>();
        flexible.DataReceived += (data, _) => received.Add(data.ToArray());
        await flexible.ConnectAsync(echo.EndPoint, Token).WaitAsync(Timeout, Token);
        Assert.Equal(1, flexible.ProtocolVersion);
        Assert.Throws<InvalidOperationException>(() => flexible.Send([1], Delivery.ReliableOrdered, 0));
        flexible.Send([4, 2]);
        Assert.Equal([4, 2], received.Take(new CancellationTokenSource(Timeout).Token));
    }

    [Fact]
    public async Task A_wrong_command_line_names_the_problem_and_exits_2()
    {
        await using var echo = EchoProcess.Run(["--port", "70000"]);
        Assert.Equal(2, await echo.ExitCodeAsync());
        Assert.Contains("--port", echo.Error, StringComparison.Ordinal);
    }

    private static PaperclipClient NewClient(byte[] serverKey, long accountId, int protocolVersion, bool allowFallback = false)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var certificate = AccountCertificate.Create(key, accountId, $"player{accountId}", DateTimeOffset.UtcNow.AddMinutes(-1), TimeSpan.FromHours(1));
        return new PaperclipClient(new PaperclipClientOptions
        {
            Certificate = certificate,
            PrivateKey = key,
            ServerPublicKey = serverKey,
            ProtocolVersion = protocolVersion,
            AllowVersionFallback = allowFallback,
        });
    }

    [GeneratedRegex(@"^listening (127\.0\.0\.1):(\d+) server-key ([A-Za-z0-9+/=]+)$")]
    private static partial Regex ReadyLine();

    /// <summary>The echo tool in its own process.</summary>
    private sealed class EchoProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly TaskCompletionSource<string> _firstLine = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly System.Text.StringBuilder _error = new();

        private EchoProcess(Process process) => _process = process;

        public IPEndPoint EndPoint { get; private set; } = null!;

        public byte[] ServerKey { get; private set; } = [];

        public string Error
        {
            get
            {
                lock (_error)
                    return _error.ToString();
            }
        }

        public static EchoProcess Run(string[] args)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Paperclip.Echo.dll"));
            foreach (var arg in args)
                start.ArgumentList.Add(arg);
            var echo = new EchoProcess(Process.Start(start)!);
            echo._process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is { } line)
                    echo._firstLine.TrySetResult(line);
            };
            echo._process.ErrorDataReceived += (_, e) =>
            {
                lock (echo._error)
                    echo._error.AppendLine(e.Data);
            };
            echo._process.BeginOutputReadLine();
            echo._process.BeginErrorReadLine();
            return echo;
        }

        public static async Task<EchoProcess> StartAsync(string[] args)
        {
            var echo = Run(["--port", "0", .. args]);
            var line = await echo._firstLine.Task.WaitAsync(Timeout, Token);
            var match = ReadyLine().Match(line);
            Assert.True(match.Success, $"not the ready line: {line}");
            echo.EndPoint = new IPEndPoint(IPAddress.Parse(match.Groups[1].Value), int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
            echo.ServerKey = Convert.FromBase64String(match.Groups[3].Value);
            return echo;
        }

        public void Terminate()
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        }

        public async Task<int> ExitCodeAsync()
        {
            await _process.WaitForExitAsync(Token).WaitAsync(Timeout, Token);
            return _process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(CancellationToken.None);
            }
            _process.Dispose();
        }
    }
}
