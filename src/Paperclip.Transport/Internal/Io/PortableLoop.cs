using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Paperclip.Transport.Internal.Io;

/// <summary>
/// The <see cref="IoLoop"/> for systems without epoll (and for tests that force it): each socket
/// receives through .NET's own socket engine (an awaited ReceiveFromAsync), and each datagram is
/// copied and posted to the loop, which handles it like the epoll loop does. One copy and one
/// thread hop per datagram more than epoll; the threading model above it is the same.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "A loop lives as long as the process.")]
internal sealed class PortableLoop(string name, ILogger logger) : IoLoop(name, logger)
{
    private readonly SemaphoreSlim _wake = new(0);

    public override void Register(UdpEndpoint endpoint) => _ = PumpAsync(endpoint);

    public override void Unregister(UdpEndpoint endpoint)
    {
        // The pump ends when the endpoint closes its socket.
    }

    protected override void Wake() => _wake.Release();

    protected override void WaitAndReceive(int timeoutMs)
    {
        if (_wake.Wait(timeoutMs))
            ClearSignal();
    }

    private async Task PumpAsync(UdpEndpoint endpoint)
    {
        var buffer = GC.AllocateArray<byte>(endpoint.MaxDatagramSize + 1, pinned: true);
        var from = new SocketAddress(endpoint.AddressFamily);
        var spare = new ConcurrentBag<ReceivedDatagram>();
        while (endpoint.IsOpen)
        {
            int received;
            try
            {
                received = await endpoint.Socket.ReceiveFromAsync(buffer, SocketFlags.None, from).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException) when (!endpoint.IsOpen)
            {
                return;
            }
            catch (SocketException)
            {
                continue; // ICMP feedback and the like: loss, which retransmission is for
            }
            if (!spare.TryTake(out var datagram))
                datagram = new ReceivedDatagram(endpoint, spare, buffer.Length, endpoint.AddressFamily);
            datagram.Fill(buffer.AsSpan(0, received), from);
            Post(datagram);
        }
    }

    /// <summary>A datagram copied off the socket, handled on the loop, then reused.</summary>
    private sealed class ReceivedDatagram(UdpEndpoint endpoint, ConcurrentBag<ReceivedDatagram> spare, int capacity, AddressFamily family) : ILoopWork
    {
        private readonly byte[] _data = new byte[capacity];
        private readonly SocketAddress _from = new(family);
        private int _length;

        public void Fill(ReadOnlySpan<byte> data, SocketAddress from)
        {
            data.CopyTo(_data);
            _length = data.Length;
            from.Buffer.Span[..from.Size].CopyTo(_from.Buffer.Span);
            _from.Size = from.Size;
        }

        public void RunOnLoop()
        {
            try
            {
                if (endpoint.IsOpen)
                {
                    var address = endpoint.ReceiveAddress;
                    _from.Buffer.Span[.._from.Size].CopyTo(address.Buffer.Span);
                    address.Size = _from.Size;
                    endpoint.Deliver(_data.AsSpan(0, _length));
                }
            }
            finally
            {
                spare.Add(this);
            }
        }
    }
}
