namespace Paperclip.Transport.Internal.Io;

/// <summary>Work handed to an <see cref="IoLoop"/> from another thread (or deferred on it).</summary>
internal interface ILoopWork
{
    void RunOnLoop();
}

/// <summary>Something with datagrams to send once the loop has finished its current batch of input.</summary>
internal interface IFlushable
{
    void FlushOnLoop();
}

/// <summary>Lifecycle work (start, stop, register): allocates, so never on the packet path.</summary>
internal sealed class ActionWork(Action action) : ILoopWork
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Completion => _done.Task;

    public void RunOnLoop()
    {
        try
        {
            action();
            _done.TrySetResult();
        }
        catch (Exception e)
        {
            _done.TrySetException(e);
        }
    }
}
