using System.Buffers;
using System.Net;
using Microsoft.Extensions.Logging;
using Paperclip.Protocol;
using Paperclip.Transport.Internal.Connection;
using Paperclip.Transport.Internal.Io;

namespace Paperclip.Transport.Internal;

/// <summary>
/// A <see cref="SessionCore"/> on an endpoint's I/O loop: the loop drives it (datagrams, its
/// deadline, flushes at the end of a turn); other threads reach it only through its
/// <see cref="SendQueue"/> and close requests, which the loop picks up.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The send queue is released when the session closes; a session ends by closing, not by disposal.")]
internal abstract class Session : SessionCore, ITimed, ILoopWork, IFlushable
{
    private readonly SendQueue _sendQueue = new();
    private readonly Clock _clock;
    private int _posted;
    private volatile bool _closeRequested;
    private DisconnectReason _requestedReason;
    private string? _requestedText;
    private bool _requestedNotify;

    protected Session(UdpEndpoint endpoint, SocketAddress remote, TransportSettings settings, Clock clock, ReassemblyBudget? budget, ILogger logger)
        : base(settings, endpoint, remote, clock.NowMilliseconds, budget, logger)
    {
        Endpoint = endpoint;
        _clock = clock;
    }

    public UdpEndpoint Endpoint { get; }

    /// <summary>True once the session ended or an end was asked for.</summary>
    public bool IsEnding => _closeRequested || IsClosed;

    long ITimed.ScheduledAt { get; set; } = long.MaxValue;

    /// <summary>Sends an application message from any thread.</summary>
    public void Send(ReadOnlySpan<byte> data, Delivery delivery, SendOptions options)
    {
        ObjectDisposedException.ThrowIf(IsEnding, this);
        byte[]? rented = null;
        try
        {
            var message = OutgoingMessage.Prepare(data, delivery, options, Settings, ref rented);
            if (Endpoint.Loop.IsCurrent)
            {
                Send(message);
                return;
            }
            if (_sendQueue.Enqueue(message))
                PostToLoop();
        }
        finally
        {
            if (rented is not null)
                ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Sends an ERROR that does not end the session, from any thread.</summary>
    public void SendErrorFromAnyThread(ErrorCode code, string message)
    {
        ObjectDisposedException.ThrowIf(IsEnding, this);
        if (Endpoint.Loop.IsCurrent)
            SendError(code, message);
        else
            Endpoint.Post(new ActionWork(() =>
            {
                if (!IsClosed)
                    SendError(code, message);
            }));
    }

    /// <summary>Ends the session from any thread: on the loop now, or as soon as the loop gets to it.</summary>
    public void RequestClose(DisconnectReason reason, string? text, bool notifyPeer = true)
    {
        if (Endpoint.Loop.IsCurrent)
        {
            Close(reason, notifyPeer, text);
            return;
        }
        if (_closeRequested)
            return;
        _requestedReason = reason;
        _requestedText = text;
        _requestedNotify = notifyPeer;
        _closeRequested = true;
        PostToLoop();
    }

    /// <summary>Handles a datagram on the loop and keeps the deadline.</summary>
    public void OnDatagram(Span<byte> datagram, in PacketHeader header)
    {
        Receive(datagram, header, _clock.NowMilliseconds);
        Endpoint.Schedule(this);
    }

    void ILoopWork.RunOnLoop()
    {
        Volatile.Write(ref _posted, 0);
        if (_closeRequested)
        {
            Close(_requestedReason, _requestedNotify, _requestedText);
            return;
        }
        _sendQueue.DrainInto(this);
        Endpoint.Schedule(this);
    }

    void IFlushable.FlushOnLoop()
    {
        Flush(_clock.NowMilliseconds, _clock.Timestamp);
        Endpoint.Schedule(this);
    }

    void ITimed.OnTimer(long now) => OnTimer(now);

    protected override void OnOutputPending() => Endpoint.Loop.MarkDirty(this);

    protected override void OnClosed(DisconnectReason reason, string? text)
    {
        _sendQueue.Dispose();
        Endpoint.Cancel(this);
        OnEnded(reason, text);
    }

    /// <summary>The session ended (on the loop).</summary>
    protected abstract void OnEnded(DisconnectReason reason, string? text);

    private void PostToLoop()
    {
        if (Interlocked.Exchange(ref _posted, 1) == 0)
            Endpoint.Post(this);
    }
}
