using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Paperclip.Transport.Tests.Hardening;

/// <summary>Keeps every log entry at Warning or above, with its exception: "no unhandled exception" made checkable.</summary>
internal sealed class RecordingLogger<T> : ILogger<T>
{
    public ConcurrentQueue<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = new();

    public IEnumerable<string> Problems => Entries.Where(e => e.Level >= LogLevel.Error || e.Exception is not null)
        .Select(e => $"{e.Level}: {e.Message} {e.Exception}");

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
            Entries.Enqueue((logLevel, formatter(state, exception), exception));
    }
}
