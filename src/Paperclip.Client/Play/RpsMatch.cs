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
    /// <summary>How long the game server has to answer the handshake. Default 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// One player's rock-paper-scissors match in a lobby: joins it through a
/// <see cref="LobbyConnection"/> and plays rounds; the game server says who sits across as they
/// arrive and leave (no polling). Used by the interactive client, the scripted commands and bots
/// alike:
/// <code>
/// await using var match = await RpsMatch.JoinAsync(api, await api.MatchmakeAsync("RPS"), password);
/// var result = await match.PlayAsync(Choice.Rock, cancellationToken);
/// </code>
/// Dispose it to leave the lobby.
/// </summary>
public sealed class RpsMatch : IAsyncDisposable
{
    private readonly LobbyConnection _connection;
    private readonly PaperclipClient _client;
    private readonly Channel<MatchEvent> _events = Channel.CreateUnbounded<MatchEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Queue<MatchEvent> _stash = new();
    private volatile Exception? _refusal;
    private volatile Exception? _ended;
    private int _disposed;

    private RpsMatch(LobbyConnection connection)
    {
        _connection = connection;
        var client = _client = connection.Client;
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

    /// <summary>The opponent's name while one is seated (as the game server said; during <see cref="MatchStatus.OpponentLeft"/>, who left).</summary>
    public string? Opponent { get; private set; }

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
        var match = new RpsMatch(connection);
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

    /// <summary>Waits until the game server says an opponent is seated.</summary>
    /// <exception cref="MatchEndedException">The session ended meanwhile.</exception>
    /// <exception cref="NoSpaceException">The game server refused the player a place after all.</exception>
    /// <exception cref="RpsGameException">The game refused the player a seat.</exception>
    public async Task WaitForOpponentAsync(CancellationToken cancellationToken = default)
    {
        var announced = false;
        while (true)
        {
            ThrowIfEnded();
            if (Opponent is not null)
                return;
            if (!announced)
                Raise(MatchStatus.WaitingForOpponent);
            announced = true;
            var next = await NextEventAsync(cancellationToken).ConfigureAwait(false);
            if (next.Kind == EventKind.Result)
                _stash.Enqueue(next); // a round finished just as the opponent left: played when asked for
            else
                Handle(next);
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
        while (true)
        {
            await WaitForOpponentAsync(cancellationToken).ConfigureAwait(false);
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
            while (Opponent is not null)
            {
                var next = await NextEventAsync(cancellationToken).ConfigureAwait(false);
                if (next.Kind == EventKind.Result)
                    return Record(next.Result!);
                Handle(next);
            }
            // The opponent left before choosing (results and departures arrive in order): the
            // game dropped our hand with the round; it goes again to the next opponent.
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

    private async Task<MatchEvent> NextEventAsync(CancellationToken cancellationToken)
    {
        if (_stash.TryPeek(out var stashed) && stashed.Kind != EventKind.Result)
            return _stash.Dequeue();
        try
        {
            return await _events.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
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
            case EventKind.OpponentJoined:
                Opponent = next.Text;
                Score = OtherScore = 0; // the game's scores belong to the pairing
                Raise(MatchStatus.OpponentPresent);
                break;
            case EventKind.OpponentLeft:
                if (Opponent is null)
                    break;
                Score = OtherScore = 0;
                Raise(MatchStatus.OpponentLeft); // Opponent still names who left
                Opponent = null;
                break;
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

    // The game's events: presence ({"presence": …}) or a round's result; anything else is not
    // for this client.
    private void OnData(ReadOnlySpan<byte> data, MessageInfo message)
    {
        try
        {
            if (IsPresence(data))
            {
                var presence = JsonSerializer.Deserialize(data, RpsJsonContext.Default.PresenceMessage)!;
                var kind = presence.Presence == PresenceMessage.Left ? EventKind.OpponentLeft : EventKind.OpponentJoined;
                _events.Writer.TryWrite(new MatchEvent(kind, null, presence.Opponent));
            }
            else if (JsonSerializer.Deserialize(data, RpsJsonContext.Default.RoundResult) is { } result)
            {
                _events.Writer.TryWrite(new MatchEvent(EventKind.Result, result, null));
            }
        }
        catch (JsonException)
        {
        }
    }

    private static bool IsPresence(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            return false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("presence"u8))
                return true;
            reader.Skip();
        }
        return false;
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
    }

    private enum EventKind
    {
        Result,
        OpponentJoined,
        OpponentLeft,
        GameError,
        Ended,
    }

    private sealed record MatchEvent(EventKind Kind, RoundResult? Result, string? Text);
}
