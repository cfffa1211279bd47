namespace Paperclip.Contracts;

/// <summary>An error answer: <c>application/problem+json</c> (RFC 9457) with at least a status and a title.</summary>
/// <param name="Status">The HTTP status.</param>
/// <param name="Title">A short summary of the kind of problem.</param>
/// <param name="Detail">What went wrong with this request, when the server says.</param>
public sealed record ProblemResponse(int? Status = null, string? Title = null, string? Detail = null);
