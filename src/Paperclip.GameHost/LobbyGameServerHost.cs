using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
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
/// <see cref="Paperclip.Backend.Security.IAccountKeyDirectory"/>, members are the accounts whose handshake completed (reported
/// to the <see cref="ILobbyMembership"/>, which may refuse them), and the lobby's game (found by
/// game id among the registered <see cref="IGame"/>s) gets their joins, leaves and messages.
/// Stopping the host (backend shutdown) tells every player SERVER_DISCONNECT.
/// </summary>
public sealed partial class LobbyGameServerHost : ILobbyServerHost, IHostedService, IAsyncDisposable
{
    private readonly ConcurrentDictionary<long, RunningLobby> _lobbies = new();
    private readonly Dictionary<long, IGame> _games;
    private readonly ILobbyMembership _membership;
    private readonly HostCertificate _certificate;
    private readonly AccountCertificateValidator _validator;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly IPAddress _bindAddress;
    private volatile bool _started;
    private volatile bool _stopping;

    /// <summary>Creates the host; lobbies start as the registry creates them.</summary>
    public LobbyGameServerHost(IEnumerable<IGame> games, ILobbyMembership membership, HostCertificate certificate,
        AccountCertificateValidator validator, TimeProvider time, IOptions<BackendOptions> options, ILoggerFactory loggers, IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(options);
        _games = games.ToDictionary(g => g.Descriptor.Id);
        _membership = membership;
        _certificate = certificate;
        _validator = validator;
        _time = time;
        _loggers = loggers;
        _logger = loggers.CreateLogger<LobbyGameServerHost>();
        // Lobbies listen where they are reached: the public host when it is an address, else everywhere.
        _bindAddress = IPAddress.TryParse(options.Value.Lobbies.PublicHost, out var address) ? address : IPAddress.IPv6Any;
        CreateInstruments(meters);
        _certificate.Renewed += OnCertificateRenewed;
    }

    /// <inheritdoc />
    public async ValueTask StartAsync(LobbySnapshot lobby, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lobby);
        if (!_games.TryGetValue(lobby.Game.Id, out var game))
            throw new InvalidOperationException($"No game server is installed for game {lobby.Game.Id} ({lobby.Game.Name}).");
        // A lobby asked for before this host's own start (a node's command) gets the first certificate here.
        if (_certificate.NotAfter is null)
            await _certificate.RenewAsync(cancellationToken).ConfigureAwait(false);

        var lobbyId = lobby.LobbyId;
        var privateKey = _certificate.CreatePrivateKeyCopy();
        var certificate = _certificate.Certificate;
        var server = new PaperclipServer(new PaperclipServerOptions
        {
            ListenEndPoint = new IPEndPoint(_bindAddress, lobby.Address.Port),
            Certificate = certificate,
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
            else if (running.Joining.TryGetValue(connection, out var joining))
                joining.Received(running, connection, data);
            else if (running.Players.TryGetValue(connection, out player))
                running.Session.MessageReceived(player, data); // seated between the two looks
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
        // A renewal between reading the certificate and listing the lobby did not reach it.
        var latest = _certificate.Certificate;
        if (!ReferenceEquals(latest, certificate))
            server.UpdateCertificate(latest, privateKey);
        LogLobbyStarted(_logger, lobbyId, game.Descriptor.Name, server.LocalEndPoint);
    }

    // The host's key stays across renewals, so each lobby keeps its copy of it.
    private void OnCertificateRenewed(byte[] certificate)
    {
        foreach (var running in _lobbies.Values)
            running.Server.UpdateCertificate(certificate, running.PrivateKey);
        LogCertificateHandedOver(_logger, _lobbies.Count);
    }

    /// <summary>The lobbies whose game server runs here.</summary>
    public IReadOnlyCollection<long> RunningLobbies => [.. _lobbies.Keys];

    /// <summary>True when the lobby's game server runs here.</summary>
    public bool IsRunningLobby(long lobbyId) => _lobbies.ContainsKey(lobbyId);

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
        _certificate.Renewed -= OnCertificateRenewed;
        foreach (var lobbyId in _lobbies.Keys)
            await StopAsync(lobbyId, CancellationToken.None).ConfigureAwait(false);
    }

    // The admission hook is synchronous: what this process can tell is checked before the
    // handshake; the place itself is the membership's answer once the handshake completed.
    private bool CanJoin(long lobbyId, long accountId) =>
        !_stopping && _lobbies.TryGetValue(lobbyId, out var running) && !running.RemovedAccounts.ContainsKey(accountId)
        && _membership.MayJoin(lobbyId, accountId);

    private void OnJoined(long lobbyId, RunningLobby running, PaperclipConnection connection)
    {
        // Messages that arrive while the join is being reported wait for it, in order.
        var joining = running.Joining[connection] = new PendingJoin();
        running.Report(async () =>
        {
            bool admitted;
            try
            {
                admitted = await _membership.MemberJoinedAsync(lobbyId, connection.AccountId).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The registry cannot say whether there is a place: the player is refused, not guessed in.
                LogReportFailed(_logger, e, lobbyId);
                admitted = false;
            }
            if (!admitted)
            {
                running.Joining.TryRemove(connection, out _);
                connection.SendError(ErrorCode.Of(ConnectionError.NoSpace), "This lobby is full.");
                connection.Disconnect();
                return;
            }
            if (!connection.IsConnected)
            {
                // Left while the join was being reported: the leave below found no player.
                running.Joining.TryRemove(connection, out _);
                await _membership.MemberLeftAsync(lobbyId, connection.AccountId).ConfigureAwait(false);
                return;
            }
            joining.Seat(running, new GamePlayer(connection) { JoinedAt = _time.GetUtcNow() });
        });
    }

    private void OnLeft(long lobbyId, RunningLobby running, PaperclipConnection connection) =>
        running.Report(async () =>
        {
            if (!running.Players.TryRemove(connection, out var player))
                return;
            running.Session.PlayerLeft(player);
            // A player whose session was replaced by a newer one from the same account stays a member;
            // at shutdown the lobbies go with the process.
            if (_stopping || running.Players.Keys.Any(c => c.AccountId == connection.AccountId))
                return;
            try
            {
                await _membership.MemberLeftAsync(lobbyId, connection.AccountId).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A host that cannot report is fenced or expired by the registry, which then drops its members.
                LogReportFailed(_logger, e, lobbyId);
            }
        });

    [LoggerMessage(Level = LogLevel.Information, Message = "Lobby {LobbyId} ({Game}) listening on {EndPoint}")]
    private static partial void LogLobbyStarted(ILogger logger, long lobbyId, string game, IPEndPoint endPoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Renewed host certificate handed to {Lobbies} running lobbies")]
    private static partial void LogCertificateHandedOver(ILogger logger, int lobbies);

    [LoggerMessage(Level = LogLevel.Information, Message = "Lobby {LobbyId} stopped")]
    private static partial void LogLobbyStopped(ILogger logger, long lobbyId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A member report of lobby {LobbyId} failed")]
    private static partial void LogReportFailed(ILogger logger, Exception exception, long lobbyId);

    // A player whose join is being reported: its messages are kept until it is seated, then handed
    // to the game in order, under the same lock, so none is lost or overtaken.
    private sealed class PendingJoin
    {
        private readonly Lock _lock = new();
        private readonly List<byte[]> _messages = [];
        private GamePlayer? _seated;

        public void Received(RunningLobby running, PaperclipConnection connection, ReadOnlySpan<byte> data)
        {
            lock (_lock)
            {
                if (_seated is null)
                {
                    _messages.Add(data.ToArray());
                    return;
                }
            }
            if (running.Players.TryGetValue(connection, out var player))
                running.Session.MessageReceived(player, data);
        }

        public void Seat(RunningLobby running, GamePlayer player)
        {
            lock (_lock)
            {
                running.Session.PlayerJoined(player);
                foreach (var message in _messages)
                    running.Session.MessageReceived(player, message);
                _messages.Clear();
                _seated = player;
                // Listed last: a message that finds the player listed must come after its join
                // and the messages kept for it (one that arrives meanwhile waits for this lock).
                running.Players[player.Connection] = player;
            }
            running.Joining.TryRemove(player.Connection, out _);
        }
    }

    private sealed class RunningLobby(PaperclipServer server, IGameSession session, AsymmetricAlgorithm privateKey) : IAsyncDisposable
    {
        public PaperclipServer Server { get; } = server;

        public AsymmetricAlgorithm PrivateKey { get; } = privateKey;

        public IGameSession Session { get; } = session;

        public ConcurrentDictionary<PaperclipConnection, GamePlayer> Players { get; } = new();

        /// <summary>Connections whose join is being reported to the membership.</summary>
        public ConcurrentDictionary<PaperclipConnection, PendingJoin> Joining { get; } = new();

        /// <summary>Accounts an operator removed: refused if they come back.</summary>
        public ConcurrentDictionary<long, bool> RemovedAccounts { get; } = new();

        private readonly Lock _reportsLock = new();
        private Task _reports = Task.CompletedTask;

        /// <summary>Runs <paramref name="report"/> after the lobby's earlier reports: a join is reported before its leave.</summary>
        public void Report(Func<Task> report)
        {
            lock (_reportsLock)
                _reports = _reports.ContinueWith(_ => report(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
        }

        public async ValueTask DisposeAsync()
        {
            Task reports;
            lock (_reportsLock)
                reports = _reports;
            await reports.ConfigureAwait(false);
            await Server.DisposeAsync().ConfigureAwait(false);
            Session.Dispose();
            PrivateKey.Dispose();
        }
    }
}
