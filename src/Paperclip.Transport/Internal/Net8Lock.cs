#if !NET9_0_OR_GREATER
namespace System.Threading;

/// <summary>
/// .NET 8 has no <c>System.Threading.Lock</c>: this one takes the monitor of a private object,
/// which is what <c>lock</c> does on any object there. The compiler calls <see cref="EnterScope"/>
/// for <c>lock</c> on a <c>Lock</c>.
/// </summary>
internal sealed class Lock
{
    private readonly object _monitor = new();

    public Scope EnterScope()
    {
        Monitor.Enter(_monitor);
        return new Scope(_monitor);
    }

    public readonly ref struct Scope(object monitor)
    {
        public void Dispose() => Monitor.Exit(monitor);
    }
}
#endif
