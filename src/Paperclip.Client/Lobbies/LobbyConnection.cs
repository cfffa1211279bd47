using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Paperclip.Client.Api;
using Paperclip.Protocol.Certificates;
using Paperclip.Transport;

namespace Paperclip.Client.Lobbies;

/// <summary>Options of a <see cref="LobbyConnection"/>.</summary>
public sealed class LobbyConnectionOptions
{
    /// <summary>How long the game server has to answer the handshake. Default 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// What joining any game's lobby takes, apart from the game: downloads the account key
/// (<c>/auth/key</c>) and the server key, decrypts the account key with the password, makes an
/// account certificate and a <see cref="PaperclipClient"/> for the lobby's game server. The
/// game subscribes to <see cref="Client"/>'s events, then calls <see cref="ConnectAsync"/>, so
/// it misses nothing the server says during the handshake:
/// <code>
/// await using var connection = await LobbyConnection.CreateAsync(api, lobby, password);
/// connection.Client.DataReceived += OnData;
/// await connection.ConnectAsync(cancellationToken);
/// </code>
/// Dispose it to leave the lobby.
/// </summary>
public sealed class LobbyConnection : IAsyncDisposable
{
    private readonly AsymmetricAlgorithm _key;
    private int _disposed;

    private LobbyConnection(LobbyInfo lobby, long accountId, PaperclipClient client, AsymmetricAlgorithm key)
    {
        Lobby = lobby;
        AccountId = accountId;
        Client = client;
        _key = key;
    }

    /// <summary>The lobby.</summary>
    public LobbyInfo Lobby { get; }

    /// <summary>The player's account id.</summary>
    public long AccountId { get; }

    /// <summary>The client for the lobby's game server (not connected until <see cref="ConnectAsync"/>).</summary>
    public PaperclipClient Client { get; }

    /// <summary>Gets the keys from the backend and prepares the client; does not connect yet.</summary>
    /// <exception cref="AccountKeyException">The password does not decrypt the account key.</exception>
    /// <exception cref="PaperclipApiException">The backend refused a call.</exception>
    public static async Task<LobbyConnection> CreateAsync(PaperclipApi api, LobbyInfo lobby, string password, LobbyConnectionOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(lobby);
        ArgumentNullException.ThrowIfNull(password);
        options ??= new LobbyConnectionOptions();
        var keyInfo = await api.GetAccountKeyAsync(cancellationToken).ConfigureAwait(false);
        var serverKey = await api.GetServerKeyAsync(cancellationToken).ConfigureAwait(false);
        if (!AccountKey.TryImportEncrypted(Convert.FromBase64String(keyInfo.Key), password, out var key))
            throw new AccountKeyException();
        try
        {
            var certificate = AccountCertificate.Create(key, keyInfo.AccountId, api.Username ?? keyInfo.AccountId.ToString(CultureInfo.InvariantCulture),
                DateTimeOffset.UtcNow.AddMinutes(-1), TimeSpan.FromHours(1));
            var client = new PaperclipClient(new PaperclipClientOptions
            {
                Certificate = certificate,
                PrivateKey = key,
                ServerPublicKey = serverKey,
                HandshakeTimeout = options.HandshakeTimeout,
            });
            return new LobbyConnection(lobby, keyInfo.AccountId, client, key);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Connects to the lobby's game server (the handshake).</summary>
    /// <exception cref="Protocol.NoSpaceException">The lobby is full.</exception>
    /// <exception cref="Protocol.TimeoutDisconnectException">The game server did not answer.</exception>
    /// <exception cref="Protocol.PaperclipException">Another handshake failure.</exception>
    public Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        EndPoint endPoint = IPAddress.TryParse(Lobby.Host, out var address)
            ? new IPEndPoint(address, Lobby.Port)
            : new DnsEndPoint(Lobby.Host, Lobby.Port);
        return Client.ConnectAsync(endPoint, cancellationToken);
    }

    /// <summary>Leaves the lobby (CLIENT_DISCONNECT) and releases the key.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await Client.DisposeAsync().ConfigureAwait(false);
        _key.Dispose();
    }
}
