using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Paperclip.Backend.Tests.Infrastructure;

/// <summary>A logger that keeps every entry it is given (level and message), for tests of what a service logs.</summary>
public sealed class RecordingLogger<T> : ILogger<T>
{
    /// <summary>Every entry so far, in order.</summary>
    public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

    /// <inheritdoc />
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    /// <inheritdoc />
    public bool IsEnabled(LogLevel logLevel) => true;

    /// <inheritdoc />
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        Entries.Enqueue((logLevel, formatter(state, exception)));
    }
}
