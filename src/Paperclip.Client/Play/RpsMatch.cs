using System.Text.Json;
using System.Threading.Channels;
using Paperclip.Client.Api;
using Paperclip.Client.Lobbies;
using Paperclip.Games.RockPaperScissors;
using Paperclip.Protocol;
using Paperclip.Transport;

namespace Paperclip.Client.Play;

/// <summary>What a match is waiting for, for the UI.</summary>
public enum MatchStatus
{
    /// <summary>The lobby has no opponent yet.</summary>
    WaitingForOpponent,

    /// <summary>An opponent is in the lobby.</summary>
    OpponentPresent,

    /// <summary>The opponent left; the game's scores start again with the next one.</summary>
    OpponentLeft,

    /// <summary>Our hand is in; the other player has not chosen yet.</summary>
    WaitingForOtherChoice,
}

/// <summary>Options of an <see cref="RpsMatch"/>.</summary>
public sealed class RpsMatchOptions
{
    /// <summary>How often the lobby's member count is checked (over REST) while waiting. Default 500 ms.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long the game server has to answer the handshake. Default 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// One player's rock-paper-scissors match in a lobby: joins it through a
/// <see cref="LobbyConnection"/> and plays rounds. Used by the interactive client, the scripted
/// commands and bots alike:
/// <code>
/// await using var match = await RpsMatch.JoinAsync(api, await api.MatchmakeAsync("RPS"), password);
/// var result = await match.PlayAsync(Choice.Rock, cancellationToken);
/// </code>
/// Dispose it to leave the lobby.
/// </summary>
public sealed class RpsMatch : IAsyncDisposable
{
    private readonly PaperclipApi _api;
    private readonly LobbyConnection _connection;
    private readonly PaperclipClient _client;
    private readonly RpsMatchOptions _options;
    private readonly Channel<MatchEvent> _events = Channel.CreateUnbounded<MatchEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Queue<MatchEvent> _stash = new();
    private readonly TaskCompletionSource _endedSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile Exception? _refusal;
    private volatile Exception? _ended;
    private bool _opponentPresent;
    private int _disposed;

    private RpsMatch(PaperclipApi api, LobbyConnection connection, RpsMatchOptions options)
    {
        _api = api;
        _connection = connection;
        var client = _client = connection.Client;
        _options = options;
        client.DataReceived += OnData;
        client.ErrorReceived += OnError;
        client.Disconnected += OnDisconnected;
    }

    /// <summary>The status changed (raised on the thread that is waiting in <see cref="PlayAsync"/> or <see cref="WaitForOpponentAsync"/>).</summary>
    public event EventHandler<MatchStatus>? StatusChanged;

    /// <summary>The lobby.</summary>
    public LobbyInfo Lobby => _connection.Lobby;

    /// <summary>The player's account id.</summary>
    public long AccountId => _connection.AccountId;

    /// <summary>The player's score in the current pairing (from the last result).</summary>
    public int Score { get; private set; }

    /// <summary>The opponent's score in the current pairing.</summary>
    public int OtherScore { get; private set; }

    /// <summary>Rounds played in this match.</summary>
    public int Rounds { get; private set; }

    /// <summary>True while the session with the game server lasts.</summary>
    public bool IsConnected => _ended is null && _client.IsConnected;

    /// <summary>Joins <paramref name="lobby"/> (<see cref="LobbyConnection"/>) with <paramref name="password"/>.</summary>
    /// <exception cref="AccountKeyException">The password does not decrypt the account key.</exception>
    /// <exception cref="NoSpaceException">The lobby is full.</exception>
    /// <exception cref="TimeoutDisconnectException">The game server did not answer.</exception>
    /// <exception cref="PaperclipException">Another handshake failure.</exception>
    /// <exception cref="PaperclipApiException">The backend refused a call.</exception>
    public static async Task<RpsMatch> JoinAsync(PaperclipApi api, LobbyInfo lobby, string password, RpsMatchOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RpsMatchOptions();
        var connection = await LobbyConnection.CreateAsync(api, lobby, password,
            new LobbyConnectionOptions { HandshakeTimeout = options.HandshakeTimeout }, cancellationToken).ConfigureAwait(false);
        // Subscribed before the handshake, so that a refusal during it (no space) is seen.
        var match = new RpsMatch(api, connection, options);
        try
        {
            await connection.ConnectAsync(cancellationToken).ConfigureAwait(false);
            return match;
        }
        catch
        {
            await match.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Waits until the lobby has an opponent (checking the lobby's members over REST).</summary>
    /// <exception cref="MatchEndedException">The session ended meanwhile.</exception>
    /// <exception cref="NoSpaceException">The game server refused the player a place after all.</exception>
    /// <exception cref="RpsGameException">The game refused the player a seat.</exception>
    public async Task WaitForOpponentAsync(CancellationToken cancellationToken = default)
    {
        var announced = false;
        while (true)
        {
            ThrowIfEnded();
            if (_stash.TryPeek(out var pending) && pending.Kind != EventKind.Result)
                Handle(_stash.Dequeue());
            if (await HasOpponentAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!_opponentPresent)
                    Raise(MatchStatus.OpponentPresent);
                _opponentPresent = true;
                return;
            }
            if (_opponentPresent)
            {
                Score = OtherScore = 0; // the game's scores belong to the pairing
                Raise(MatchStatus.OpponentLeft);
            }
            _opponentPresent = false;
            if (!announced)
                Raise(MatchStatus.WaitingForOpponent);
            announced = true;
            if (await NextEventAsync(_options.PollInterval, cancellationToken).ConfigureAwait(false) is { } next)
            {
                if (next.Kind == EventKind.Result)
                    _stash.Enqueue(next);
                else
                    Handle(next);
            }
        }
    }

    /// <summary>
    /// Plays one round: waits for an opponent if there is none, sends <paramref name="choice"/>
    /// and returns the result once the other player has chosen too. When the opponent leaves
    /// meanwhile (the game then forgets the hand), waits for the next one and sends it again.
    /// </summary>
    /// <exception cref="MatchEndedException">The session ended (server shutdown, lost connection).</exception>
    /// <exception cref="RpsGameException">The game refused the move; the session goes on.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<RoundResult> PlayAsync(Choice choice, CancellationToken cancellationToken = default)
    {
        if (_stash.TryPeek(out var early) && early.Kind == EventKind.Result)
            return Record(_stash.Dequeue().Result!);
        await WaitForOpponentAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            ThrowIfEnded();
            var message = JsonSerializer.SerializeToUtf8Bytes(new ChoiceMessage((int)choice), RpsJsonContext.Default.ChoiceMessage);
            try
            {
                _client.Send(message, Delivery.Reliable);
            }
            catch (InvalidOperationException)
            {
                ThrowIfEnded();
                throw new MatchEndedException(DisconnectReason.Disconnect, "not connected");
            }
            Raise(MatchStatus.WaitingForOtherChoice);
            while (true)
            {
                var next = await NextEventAsync(_options.PollInterval, cancellationToken).ConfigureAwait(false);
                if (next is not null)
                {
                    if (next.Kind == EventKind.Result)
                        return Record(next.Result!);
                    Handle(next);
                    continue;
                }
                if (await HasOpponentAsync(cancellationToken).ConfigureAwait(false))
                    continue;
                // Gone: a result may still be on its way (sent to both before the other left).
                if (await NextEventAsync(_options.PollInterval, cancellationToken).ConfigureAwait(false) is { } late)
                {
                    if (late.Kind == EventKind.Result)
                        return Record(late.Result!);
                    Handle(late);
                }
                _opponentPresent = true; // announce the departure
                await WaitForOpponentAsync(cancellationToken).ConfigureAwait(false);
                if (_stash.TryPeek(out var stashed) && stashed.Kind == EventKind.Result)
                    return Record(_stash.Dequeue().Result!); // it came after all: the hand was not lost
                break; // send the hand again
            }
        }
    }

    /// <summary>Leaves the lobby (CLIENT_DISCONNECT) and releases the key.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _client.DataReceived -= OnData;
        _client.ErrorReceived -= OnError;
        _client.Disconnected -= OnDisconnected;
        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    private RoundResult Record(RoundResult result)
    {
        Score = result.Score.Value;
        OtherScore = result.OtherScore.Value;
        Rounds++;
        return result;
    }

    private async Task<bool> HasOpponentAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<LobbyListing> lobbies;
        try
        {
            lobbies = await _api.GetLobbiesAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ServerUnreachableException or PaperclipApiException)
        {
            // A server shutting down stops its game servers (SERVER_DISCONNECT) while its HTTP side
            // goes: when that news is on its way, it is the better explanation.
            if (_ended is null)
                await Task.WhenAny(_endedSignal.Task, Task.Delay(_options.PollInterval * 2, cancellationToken)).ConfigureAwait(false);
            ThrowIfEnded();
            throw;
        }
        var lobby = lobbies.FirstOrDefault(l => l.LobbyId == Lobby.LobbyId);
        return lobby is not null && lobby.Members >= Math.Max(2, lobby.Size);
    }

    private async Task<MatchEvent?> NextEventAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        if (_stash.TryDequeue(out var stashed))
            return stashed;
        if (_events.Reader.TryRead(out var ready))
            return ready;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait);
        try
        {
            return await _events.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (ChannelClosedException)
        {
            ThrowIfEnded();
            throw new MatchEndedException(DisconnectReason.Disconnect, null);
        }
    }

    private void Handle(MatchEvent next)
    {
        switch (next.Kind)
        {
            case EventKind.GameError:
                throw new RpsGameException(next.Text ?? "The game refused the move.");
            case EventKind.Ended:
                ThrowIfEnded();
                break;
        }
    }

    private void ThrowIfEnded()
    {
        if (_ended is not null)
            throw _ended;
    }

    private void Raise(MatchStatus status) => StatusChanged?.Invoke(this, status);

    private void OnData(ReadOnlySpan<byte> data, MessageInfo message)
    {
        RoundResult? result;
        try
        {
            result = JsonSerializer.Deserialize(data, RpsJsonContext.Default.RoundResult);
        }
        catch (JsonException)
        {
            return; // not a round result: nothing this client understands
        }
        if (result is not null)
            _events.Writer.TryWrite(new MatchEvent(EventKind.Result, result, null));
    }

    private void OnError(object? sender, ErrorReceivedEventArgs e)
    {
        if (e.Code.Major == ErrorMajor.Connection && e.Code.Connection == ConnectionError.NoSpace)
        {
            _refusal = new NoSpaceException(string.IsNullOrEmpty(e.Text) ? "the lobby is full" : e.Text);
            return;
        }
        _events.Writer.TryWrite(new MatchEvent(EventKind.GameError, null, e.Text));
    }

    private void OnDisconnected(object? sender, DisconnectedEventArgs e)
    {
        _ended = _refusal ?? new MatchEndedException(e.Reason, e.Text);
        _events.Writer.TryWrite(new MatchEvent(EventKind.Ended, null, e.Text));
        _events.Writer.TryComplete();
        _endedSignal.TrySetResult();
    }

    private enum EventKind
    {
        Result,
        GameError,
        Ended,
    }

    private sealed record MatchEvent(EventKind Kind, RoundResult? Result, string? Text);
}
