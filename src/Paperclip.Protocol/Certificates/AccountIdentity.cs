namespace Paperclip.Protocol.Certificates;

/// <summary>Who an account certificate names.</summary>
/// <param name="AccountId">The account id (the UID attribute).</param>
/// <param name="Username">The username (the pseudonym attribute).</param>
public sealed record AccountIdentity(long AccountId, string Username);
