namespace Paperclip.GameHost.Node;

/// <summary>A game-host node's settings (<c>Paperclip:GameHost</c>).</summary>
public sealed class GameHostNodeOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Paperclip:GameHost";

    /// <summary>The host's name in Redis; unique per running host. Default: machine name and process id.</summary>
    public string HostId { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>The host its lobbies are reached at (<c>lobby-addr</c>). Default <c>127.0.0.1</c>.</summary>
    public string PublicHost { get; set; } = "127.0.0.1";

    /// <summary>This host's UDP ports, <c>first-last</c>, disjoint from other hosts on the same machine. Default <c>27000-27999</c>.</summary>
    public string PortRange { get; set; } = "27000-27999";
}
