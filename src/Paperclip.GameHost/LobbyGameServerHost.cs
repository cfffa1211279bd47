using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using BackendOptions = Paperclip.Backend.PaperclipOptions;
using Paperclip.Backend.Lobbies;
using Paperclip.Games;
using Paperclip.Protocol;
using Paperclip.Transport;

namespace Paperclip.GameHost;

/// <summary>
/// Runs every lobby as a Paperclip server on its own UDP port, in the backend's process: the
/// lobbies present this host's own certificate (<see cref="HostCertificate"/>, signed by the
/// backend's server key, whose private key this host never sees), players are checked against the
/// database, members are the accounts whose handshake completed, and the lobby's game (found by
/// game id among the registered <see cref="IGame"/>s) gets their joins, leaves and messages.
/// Stopping the host (backend shutdown) tells every player SERVER_DISCONNECT.
/// </summary>
public sealed partial class LobbyGameServerHost : ILobbyServerHost, IHostedService, IAsyncDisposable
{
    private readonly ConcurrentDictionary<long, RunningLobby> _lobbies = new();
    private readonly Dictionary<long, IGame> _games;
    private readonly IServiceProvider _services;
    private readonly HostCertificate _certificate;
    private readonly DatabaseCertificateValidator _validator;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly IPAddress _bindAddress;
    private ILobbyRegistry? _registry;
    private volatile bool _started;
    private volatile bool _stopping;

    /// <summary>Creates the host; lobbies start as the registry creates them.</summary>
    public LobbyGameServerHost(IEnumerable<IGame> games, IServiceProvider services, HostCertificate certificate,
        DatabaseCertificateValidator validator, TimeProvider time, IOptions<BackendOptions> options, ILoggerFactory loggers, IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(options);
        _games = games.ToDictionary(g => g.Id);
        _services = services;
        _certificate = certificate;
        _validator = validator;
        _time = time;
        _loggers = loggers;
        _logger = loggers.CreateLogger<LobbyGameServerHost>();
        // Lobbies listen where they are reached: the public host when it is an address, else everywhere.
        _bindAddress = IPAddress.TryParse(options.Value.Lobbies.PublicHost, out var address) ? address : IPAddress.IPv6Any;
        CreateInstruments(meters);
    }

    // The registry depends on this host, and this host reports members to the registry: resolved
    // at the first lobby start, which the registry itself makes.
    private ILobbyRegistry Registry => _registry ??= _services.GetRequiredService<ILobbyRegistry>();

    /// <inheritdoc />
    public ValueTask StartAsync(LobbySnapshot lobby, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lobby);
        if (!_games.TryGetValue(lobby.Game.Id, out var game))
            throw new InvalidOperationException($"No game server is installed for game {lobby.Game.Id} ({lobby.Game.Name}).");

        _ = Registry;
        var lobbyId = lobby.LobbyId;
        var privateKey = _certificate.CreatePrivateKeyCopy();
        var server = new PaperclipServer(new PaperclipServerOptions
        {
            ListenEndPoint = new IPEndPoint(_bindAddress, lobby.Address.Port),
            Certificate = _certificate.Certificate,
            PrivateKey = privateKey,
            CertificateValidator = _validator,
            MaxClients = lobby.Size,
            Admission = identity => CanJoin(lobbyId, identity.AccountId),
            TimeProvider = _time,
        }, _loggers.CreateLogger<PaperclipServer>());
        var session = game.CreateSession(new GameLobbyContext(lobbyId, lobby.Size, _time, _loggers.CreateLogger(game.GetType())));
        var running = new RunningLobby(server, session, privateKey);

        server.ClientJoined += (_, e) => OnJoined(lobbyId, running, e.Connection);
        server.ClientLeft += (_, e) => OnLeft(lobbyId, running, e.Connection!);
        server.DataReceived += (connection, data, _) =>
        {
            if (running.Players.TryGetValue(connection, out var player))
                running.Session.MessageReceived(player, data);
        };
        try
        {
            server.Start();
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            session.Dispose();
            privateKey.Dispose();
            throw new LobbyPortUnavailableException($"UDP port {lobby.Address.Port} is in use.", e);
        }
        catch
        {
            session.Dispose();
            privateKey.Dispose();
            throw;
        }
        _lobbies[lobbyId] = running;
        LogLobbyStarted(_logger, lobbyId, game.Name, server.LocalEndPoint);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public async ValueTask StopAsync(long lobbyId, CancellationToken cancellationToken)
    {
        if (_lobbies.TryRemove(lobbyId, out var running))
        {
            await running.DisposeAsync().ConfigureAwait(false);
            LogLobbyStopped(_logger, lobbyId);
        }
    }

    async Task IHostedService.StartAsync(CancellationToken cancellationToken)
    {
        await _certificate.RenewAsync(cancellationToken).ConfigureAwait(false);
        _started = true;
    }

    async Task IHostedService.StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    /// <summary>Stops every lobby: their players are told SERVER_DISCONNECT.</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        foreach (var lobbyId in _lobbies.Keys)
            await StopAsync(lobbyId, CancellationToken.None).ConfigureAwait(false);
    }

    private bool CanJoin(long lobbyId, long accountId) =>
        !(_lobbies.TryGetValue(lobbyId, out var running) && running.RemovedAccounts.ContainsKey(accountId))
        && Registry.GetLobby(lobbyId) is { } lobby
        && (lobby.Reservations.Contains(accountId) || lobby.Members.Contains(accountId) || lobby.HasSpace);

    private void OnJoined(long lobbyId, RunningLobby running, PaperclipConnection connection)
    {
        // Admission checked before the handshake; a place taken meanwhile by a reservation loses here.
        if (!Registry.MemberJoined(lobbyId, connection.AccountId))
        {
            connection.SendError(ErrorCode.Of(ConnectionError.NoSpace), "This lobby is full.");
            connection.Disconnect();
            return;
        }
        var player = new GamePlayer(connection) { JoinedAt = _time.GetUtcNow() };
        running.Players[connection] = player;
        running.Session.PlayerJoined(player);
    }

    private void OnLeft(long lobbyId, RunningLobby running, PaperclipConnection connection)
    {
        if (!running.Players.TryRemove(connection, out var player))
            return;
        // A player whose session was replaced by a newer one from the same account stays a member;
        // at shutdown the registry goes with the process.
        if (!_stopping && !running.Players.Keys.Any(c => c.AccountId == connection.AccountId))
            Registry.MemberLeft(lobbyId, connection.AccountId);
        running.Session.PlayerLeft(player);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Lobby {LobbyId} ({Game}) listening on {EndPoint}")]
    private static partial void LogLobbyStarted(ILogger logger, long lobbyId, string game, IPEndPoint endPoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Lobby {LobbyId} stopped")]
    private static partial void LogLobbyStopped(ILogger logger, long lobbyId);

    private sealed class RunningLobby(PaperclipServer server, IGameSession session, AsymmetricAlgorithm privateKey) : IAsyncDisposable
    {
        public PaperclipServer Server { get; } = server;

        public IGameSession Session { get; } = session;

        public ConcurrentDictionary<PaperclipConnection, GamePlayer> Players { get; } = new();

        /// <summary>Accounts an operator removed: refused if they come back.</summary>
        public ConcurrentDictionary<long, bool> RemovedAccounts { get; } = new();

        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync().ConfigureAwait(false);
            Session.Dispose();
            privateKey.Dispose();
        }
    }
}
