using System.Net;
using System.Net.Sockets;

namespace Paperclip.Transport.Tests;

/// <summary>
/// A UDP relay on loopback between one client and a server that lets a test rewrite or drop
/// datagrams in flight: a man in the middle for handshake tests.
/// </summary>
public sealed class TamperingRelay : IAsyncDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly IPEndPoint _server;
    private readonly Func<byte[], bool, byte[]?> _tamper;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private EndPoint? _client;

    /// <param name="server">Where to forward.</param>
    /// <param name="tamper">Gets each datagram and whether it goes to the server; returns what to forward, or null to drop.</param>
    public TamperingRelay(IPEndPoint server, Func<byte[], bool, byte[]?> tamper)
    {
        _server = server;
        _tamper = tamper;
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _loop = Task.Run(LoopAsync);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Sends a datagram to the client from the relay's address, as if the server sent it (an injection).</summary>
    public void SendToClient(ReadOnlySpan<byte> datagram) => _socket.SendTo(datagram, _client ?? throw new InvalidOperationException("No client has sent through the relay."));

    private async Task LoopAsync()
    {
        var buffer = new byte[65536];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult result;
            try
            {
                result = await _socket.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                    return;
                continue;
            }
            var from = (IPEndPoint)result.RemoteEndPoint;
            var toServer = !from.Equals(_server);
            if (toServer)
                _client = from;
            var forwarded = _tamper(buffer.AsSpan(0, result.ReceivedBytes).ToArray(), toServer);
            var to = toServer ? _server : _client;
            if (forwarded is null || to is null)
                continue;
            try
            {
                await _socket.SendToAsync(forwarded, to);
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException)
            {
                // Disposed mid-send (the test is over) or the peer's port is gone: the datagram is lost, as on a network.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Dispose();
        await _loop;
        _stop.Dispose();
    }
}
