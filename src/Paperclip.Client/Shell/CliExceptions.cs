namespace Paperclip.Client.Shell;

/// <summary>A mistake in the command line: the message says what, and the exit code is 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>A wait for an opponent or a move took longer than <c>--timeout</c>.</summary>
internal sealed class WaitTimeoutException(string message) : Exception(message);
