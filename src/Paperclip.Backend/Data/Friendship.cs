namespace Paperclip.Backend.Data;

/// <summary>A symmetric friendship, stored once per pair with the lower account id first.</summary>
public sealed class Friendship
{
    /// <summary>The lower account id of the pair.</summary>
    public long LowerId { get; set; }

    /// <summary>The higher account id of the pair.</summary>
    public long HigherId { get; set; }

    /// <summary>When the friendship was made (UTC).</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The account with the lower id.</summary>
    public Account Lower { get; set; } = null!;

    /// <summary>The account with the higher id.</summary>
    public Account Higher { get; set; } = null!;

    /// <summary>The pair in storage order.</summary>
    public static (long Lower, long Higher) Order(long a, long b) => a < b ? (a, b) : (b, a);
}
