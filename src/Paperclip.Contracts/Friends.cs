namespace Paperclip.Contracts;

/// <summary>An account as <c>/friends/</c> shows it.</summary>
/// <param name="Id">The account's id.</param>
/// <param name="Username">Its username.</param>
public sealed record UserSummary(long Id, string Username);

/// <summary><c>GET /friends/</c> answer.</summary>
/// <param name="Friends">The caller's friends, by id.</param>
public sealed record FriendsResponse(IReadOnlyList<UserSummary> Friends);

/// <summary>A request naming a user: <c>POST /friends/add</c>, <c>DELETE /friend/remove</c>.</summary>
/// <param name="Username">The user (case-insensitive).</param>
public sealed record UsernameRequest(string Username);

/// <summary><c>POST /friends/add</c> answer.</summary>
/// <param name="Account">The caller.</param>
/// <param name="Other">The new friend.</param>
public sealed record FriendAddedResponse(UserSummary Account, UserSummary Other);
