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
    private readonly Lock _writableLock = new();
    private TaskCompletionSource? _writable;
    private long _bufferedBytes;
    private int _bufferedMessages;
    private int _posted;
    private volatile bool _closeRequested;
    private DisconnectReason _requestedReason;
    private string? _requestedText;
    private bool _requestedNotify;

    protected Session(UdpEndpoint endpoint, SocketAddress remote, TransportSettings settings, Clock clock, ReassemblyBudget? budget, ReassemblyBudget? heldBudget, ILogger logger)
        : base(settings, endpoint, remote, clock.NowMilliseconds, budget, heldBudget, logger)
    {
        Endpoint = endpoint;
        _clock = clock;
    }

    public UdpEndpoint Endpoint { get; }

    /// <summary>True once the session ended or an end was asked for.</summary>
    public bool IsEnding => _closeRequested || IsClosed;

    long ITimed.ScheduledAt { get; set; } = long.MaxValue;

    /// <summary>Bytes of application messages the session holds for sending: queued, waiting for a window, or unacknowledged.</summary>
    public long BufferedBytes => Volatile.Read(ref _bufferedBytes);

    /// <summary>Application messages the session holds for sending.</summary>
    public int BufferedMessages => Volatile.Read(ref _bufferedMessages);

    /// <summary>
    /// Sends an application message from any thread. False, sending nothing, when the send buffer
    /// has no room for it (<see cref="PaperclipOptions.MaxSendBufferBytes"/>); an empty buffer
    /// always takes one message.
    /// </summary>
    public bool TrySend(ReadOnlySpan<byte> data, Delivery delivery, int channel, SendOptions options)
    {
        ObjectDisposedException.ThrowIf(IsEnding, this);
        if (MessageInfo.IsChannelDelivery(delivery) && Version < ProtocolConstants.Version2)
            throw new InvalidOperationException($"{delivery} needs a channel, and channels need protocol version 2: this session negotiated version {Version}.");
        byte[]? rented = null;
        try
        {
            var message = OutgoingMessage.Prepare(data, delivery, channel, options, Settings, ref rented);
            var length = message.Data.Length;
            var buffered = Interlocked.Add(ref _bufferedBytes, length);
            if (buffered > Settings.MaxSendBufferBytes && buffered != length)
            {
                Interlocked.Add(ref _bufferedBytes, -length);
                return false;
            }
            Interlocked.Increment(ref _bufferedMessages);
            if (Endpoint.Loop.IsCurrent)
            {
                Send(message);
                return true;
            }
            // Only an unreliable message's age is looked at (it may go stale): no clock read for the rest.
            var queuedAt = (message.Header.Flags & PacketFlags.Reliable) == 0 ? _clock.NowMilliseconds : 0;
            if (_sendQueue.Enqueue(message, queuedAt))
                PostToLoop();
            return true;
        }
        finally
        {
            if (rented is not null)
                ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Sends an application message from any thread, or throws <see cref="SendBufferFullException"/>.</summary>
    public void Send(ReadOnlySpan<byte> data, Delivery delivery, int channel, SendOptions options)
    {
        if (!TrySend(data, delivery, channel, options))
            throw new SendBufferFullException(
                $"The send buffer holds {BufferedBytes} bytes in {BufferedMessages} messages, at its limit of {Settings.MaxSendBufferBytes}: the peer is not keeping up. Use TrySend or await WhenWritableAsync.");
    }

    /// <summary>
    /// Completes once the send buffer is at most half full (or the session ended): a bulk sender
    /// awaits it when TrySend returns false.
    /// </summary>
    public Task WhenWritableAsync(CancellationToken cancellationToken)
    {
        var lowWater = Settings.MaxSendBufferBytes / 2;
        if (BufferedBytes <= lowWater || IsEnding)
            return Task.CompletedTask;
        TaskCompletionSource writable;
        lock (_writableLock)
            writable = _writable ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The loop may have drained the buffer before it could see the waiter: look again.
        if (BufferedBytes <= lowWater || IsEnding)
            SignalWritable();
        return writable.Task.WaitAsync(cancellationToken);
    }

    protected override void OnSendBufferReleased(long bytes, int messages)
    {
        Interlocked.Add(ref _bufferedMessages, -messages);
        if (Interlocked.Add(ref _bufferedBytes, -bytes) <= Settings.MaxSendBufferBytes / 2 && Volatile.Read(ref _writable) is not null)
            SignalWritable();
    }

    private void SignalWritable()
    {
        TaskCompletionSource? writable;
        lock (_writableLock)
        {
            writable = _writable;
            _writable = null;
        }
        writable?.TrySetResult();
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
        _sendQueue.DrainInto(this, _clock.NowMilliseconds, Settings.MaxUnreliableQueueDelayMs);
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
        SignalWritable();
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
