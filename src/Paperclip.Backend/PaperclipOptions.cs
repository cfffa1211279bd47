namespace Paperclip.Backend;

/// <summary>
/// The backend's configuration, bound from the <c>Paperclip</c> section and checked at start by
/// <see cref="PaperclipOptionsValidator"/>. The keys and their units (seconds) are the ones
/// shared/spec/api.md documents; the <see cref="TimeSpan"/> properties are what the code uses.
/// </summary>
public sealed class PaperclipOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Paperclip";

    /// <summary>
    /// Which parts this process runs: <c>Embedded</c> (the default: the API, an in-memory lobby
    /// registry and every lobby's game server in one process), <c>Api</c> (a stateless API node of a
    /// cluster) or <c>GameHost</c> (a cluster's game-server process). See docs/scaling.md.
    /// </summary>
    public ServerMode Mode { get; set; } = ServerMode.Embedded;

    /// <summary>Settings shared by the processes of a cluster.</summary>
    public ClusterOptions Cluster { get; set; } = new();

    /// <summary>Where generated secrets and keys are kept (default: the working directory).</summary>
    public string? DataDirectory { get; set; }

    /// <summary>Create the demo accounts on a new database. Default: true on SQLite in Development.</summary>
    public bool? Demo { get; set; }

    /// <summary>Serve the interactive API reference at <c>/docs</c>. Default: true in Development.</summary>
    public bool? ApiReference { get; set; }

    /// <summary>The backend's server private key: PEM or base64 PKCS#8. Generated into the data directory when empty.</summary>
    public string? ServerKey { get; set; }

    /// <summary>Largest accepted request body, in bytes.</summary>
    public int MaxRequestBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Database settings.</summary>
    public DatabaseOptions Database { get; set; } = new();

    /// <summary>Authentication settings.</summary>
    public AuthOptions Auth { get; set; } = new();

    /// <summary>Lobby settings.</summary>
    public LobbyOptions Lobbies { get; set; } = new();

    /// <summary>
    /// User names (case-insensitive) that may use the operator's console, besides the accounts
    /// granted it with <c>Paperclip.Server admin grant</c>. Empty by default: nobody is an admin
    /// until an operator says so.
    /// </summary>
    public IList<string> Admins { get; } = [];

    /// <summary>The data directory, resolved to a full path.</summary>
    public string ResolvedDataDirectory =>
        Path.GetFullPath(string.IsNullOrWhiteSpace(DataDirectory) ? Directory.GetCurrentDirectory() : DataDirectory);
}

/// <summary>Which parts of Paperclip a process runs (<c>Paperclip:Mode</c>).</summary>
public enum ServerMode
{
    /// <summary>Everything in one process, on SQLite by default: the quick start.</summary>
    Embedded,

    /// <summary>A stateless API node: PostgreSQL for accounts, Redis for lobbies, no game servers.</summary>
    Api,

    /// <summary>A game-host node: lobby game servers, registered in Redis, certified by an API node.</summary>
    GameHost,
}

/// <summary>Cluster settings (<c>Paperclip:Cluster</c>), used in the <c>Api</c> and <c>GameHost</c> modes.</summary>
public sealed class ClusterOptions
{
    /// <summary>
    /// The secret game hosts present to API nodes to get their certificate: at least 32
    /// characters, the same on every process of the cluster. Required in cluster modes.
    /// </summary>
    public string? HostSecret { get; set; }

    /// <summary>A game host's API node (or the load balancer before them), e.g. <c>http://10.0.0.5:8080</c>. Required in <c>GameHost</c> mode.</summary>
    public string? ApiUrl { get; set; }

    /// <summary>
    /// Lifetime in seconds of a game host's certificate (default a day); the host renews it when
    /// two thirds have passed. A lobby keeps the certificate it started with.
    /// </summary>
    public int HostCertificateSeconds { get; set; } = 86_400;

    /// <summary><see cref="HostCertificateSeconds"/>.</summary>
    public TimeSpan HostCertificateLifetime => TimeSpan.FromSeconds(HostCertificateSeconds);
}

/// <summary>The database provider.</summary>
public enum DatabaseProvider
{
    /// <summary>An embedded SQLite file (the default).</summary>
    Sqlite,

    /// <summary>A PostgreSQL server through Npgsql.</summary>
    Postgres,
}

/// <summary>Database settings (<c>Paperclip:Database</c>).</summary>
public sealed class DatabaseOptions
{
    /// <summary><c>Sqlite</c> or <c>Postgres</c>.</summary>
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;
}

/// <summary>Authentication settings (<c>Paperclip:Auth</c>).</summary>
public sealed class AuthOptions
{
    /// <summary>Token lifetime in seconds.</summary>
    public int TokenSeconds { get; set; } = 600;

    /// <summary>The JWT signing secret, base64, at least 32 bytes. Generated into the data directory when empty.</summary>
    public string? SigningKey { get; set; }

    /// <summary>The token issuer and audience.</summary>
    public string Issuer { get; set; } = "paperclip";

    /// <summary>PBKDF2 iterations for new password hashes (never below 100,000).</summary>
    public int PasswordIterations { get; set; } = 100_000;

    /// <summary>Failed logins allowed per username and per client address within the window.</summary>
    public int MaxFailedLogins { get; set; } = 5;

    /// <summary>The failed-login window in seconds.</summary>
    public int FailedLoginWindowSeconds { get; set; } = 60;

    /// <summary>How long a successful password check is remembered (seconds; 0 disables the cache).</summary>
    public int CredentialCacheSeconds { get; set; } = 60;

    /// <summary><see cref="TokenSeconds"/>.</summary>
    public TimeSpan TokenLifetime => TimeSpan.FromSeconds(TokenSeconds);

    /// <summary><see cref="FailedLoginWindowSeconds"/>.</summary>
    public TimeSpan FailedLoginWindow => TimeSpan.FromSeconds(FailedLoginWindowSeconds);

    /// <summary><see cref="CredentialCacheSeconds"/>.</summary>
    public TimeSpan CredentialCacheLifetime => TimeSpan.FromSeconds(CredentialCacheSeconds);
}

/// <summary>Lobby settings (<c>Paperclip:Lobbies</c>).</summary>
public sealed class LobbyOptions
{
    /// <summary>The host returned in <c>lobby-addr</c>.</summary>
    public string PublicHost { get; set; } = "127.0.0.1";

    /// <summary>The UDP ports for lobby game servers, <c>first-last</c>.</summary>
    public string PortRange { get; set; } = "27000-27999";

    /// <summary>A lobby with no members for this many seconds is removed.</summary>
    public int PruneSeconds { get; set; } = 60;

    /// <summary>How long (seconds) a place handed out by matchmaking is held for an account that has not joined yet.</summary>
    public int ReservationSeconds { get; set; } = 30;

    /// <summary>How often (seconds) the pruning service runs.</summary>
    public int PruneIntervalSeconds { get; set; } = 5;

    /// <summary><see cref="PruneSeconds"/>.</summary>
    public TimeSpan PruneAfter => TimeSpan.FromSeconds(PruneSeconds);

    /// <summary><see cref="ReservationSeconds"/>.</summary>
    public TimeSpan ReservationLifetime => TimeSpan.FromSeconds(ReservationSeconds);

    /// <summary><see cref="PruneIntervalSeconds"/>.</summary>
    public TimeSpan PruneInterval => TimeSpan.FromSeconds(PruneIntervalSeconds);
}
