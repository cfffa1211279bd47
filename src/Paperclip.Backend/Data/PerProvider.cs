using System.Collections.Concurrent;

namespace Paperclip.Backend.Data;

/// <summary>
/// One instance of <typeparamref name="T"/> per concrete context type. EF Core compiled queries
/// bind to the model of the first context they run on, so each provider gets its own.
/// </summary>
/// <typeparam name="T">Usually a compiled query delegate.</typeparam>
/// <param name="create">Makes the instance for a context type.</param>
public sealed class PerProvider<T>(Func<T> create)
    where T : class
{
    private readonly ConcurrentDictionary<Type, T> _instances = new();

    /// <summary>The instance for <paramref name="context"/>'s provider.</summary>
    public T For(PaperclipDbContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return _instances.GetOrAdd(context.GetType(), _ => create());
    }
}
