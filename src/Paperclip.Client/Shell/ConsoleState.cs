namespace Paperclip.Client.Shell;

/// <summary>What Ctrl+C needs to know: whether the program is blocked reading a prompt.</summary>
internal static class ConsoleState
{
    private static int _prompting;

    /// <summary>True while a prompt waits for input.</summary>
    public static bool Prompting => Volatile.Read(ref _prompting) > 0;

    /// <summary>Marks a prompt until disposed.</summary>
    public static PromptScope Prompt()
    {
        Interlocked.Increment(ref _prompting);
        return default;
    }

    /// <summary>Ends a prompt.</summary>
    internal readonly struct PromptScope : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref _prompting);
    }
}
