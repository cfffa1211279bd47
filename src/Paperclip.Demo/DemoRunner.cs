using System.Globalization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Paperclip.Client.Api;
using Paperclip.Client.Play;
using Paperclip.Games.RockPaperScissors;
using Paperclip.Server;

namespace Paperclip.Demo;

/// <summary>
/// Starts the whole server on a throwaway SQLite database with the demo accounts, logs Mario and
/// Peach in as bots, matchmakes them into one RPS lobby and plays three rounds over encrypted UDP.
/// </summary>
internal static class DemoRunner
{
    private static readonly (Choice Mario, Choice Peach)[] Rounds =
    [
        (Choice.Rock, Choice.Scissors),
        (Choice.Paper, Choice.Paper),
        (Choice.Scissors, Choice.Rock),
    ];

    public static async Task<int> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var data = Directory.CreateTempSubdirectory("paperclip-demo-");
        var app = ServerApplication.Build(
        [
            "--urls=http://127.0.0.1:0",
            "--environment=Development",
            $"--Paperclip:DataDirectory={data.FullName}",
            $"--ConnectionStrings:Paperclip=Data Source={Path.Combine(data.FullName, "demo.db")}",
            "--Paperclip:Demo=true",
            "--Paperclip:LogDirectory=",
            "--Serilog:MinimumLevel:Default=Warning",
            "--Serilog:MinimumLevel:Override:Microsoft.Hosting.Lifetime=Warning",
            "--Serilog:MinimumLevel:Override:Paperclip.Backend.Security=Error",
        ]);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            var server = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            await output.WriteLineAsync($"Paperclip server on {server} (embedded SQLite, demo accounts)").ConfigureAwait(false);
            await PlayAsync(server, output, cancellationToken).ConfigureAwait(false);
            return 0;
        }
        finally
        {
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            try
            {
                data.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task PlayAsync(Uri server, TextWriter output, CancellationToken cancellationToken)
    {
        using var marioApi = new PaperclipApi(server);
        using var peachApi = new PaperclipApi(server);
        await marioApi.LoginAsync("Mario", "ItsAMe123", cancellationToken).ConfigureAwait(false);
        await peachApi.LoginAsync("Peach", "MammaMia!", cancellationToken).ConfigureAwait(false);

        var lobby = await marioApi.MatchmakeAsync(RockPaperScissorsGame.Descriptor.Name, cancellationToken).ConfigureAwait(false);
        var peachLobby = await peachApi.MatchmakeAsync(RockPaperScissorsGame.Descriptor.Name, cancellationToken).ConfigureAwait(false);
        if (peachLobby.LobbyId != lobby.LobbyId)
            throw new InvalidOperationException("Matchmaking put Mario and Peach in different lobbies.");
        await output.WriteLineAsync($"Mario and Peach matchmade into lobby {lobby.LobbyId} at {lobby.Host}:{lobby.Port} (UDP, AES-256-GCM)").ConfigureAwait(false);

        await using var mario = await RpsMatch.JoinAsync(marioApi, lobby, "ItsAMe123", cancellationToken: cancellationToken).ConfigureAwait(false);
        await using var peach = await RpsMatch.JoinAsync(peachApi, peachLobby, "MammaMia!", cancellationToken: cancellationToken).ConfigureAwait(false);

        for (var round = 0; round < Rounds.Length; round++)
        {
            var (marioChoice, peachChoice) = Rounds[round];
            var marioPlays = mario.PlayAsync(marioChoice, cancellationToken);
            var peachPlays = peach.PlayAsync(peachChoice, cancellationToken);
            var result = await marioPlays.ConfigureAwait(false);
            await peachPlays.ConfigureAwait(false);
            var verdict = (Outcome)result.Outcome switch
            {
                Outcome.Win => "Mario wins",
                Outcome.Lose => "Peach wins",
                _ => "draw",
            };
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"Round {round + 1}: Mario {Name(marioChoice)} vs Peach {Name(peachChoice)} -> {verdict} (Mario {result.Score.Value}, Peach {result.OtherScore.Value})")).ConfigureAwait(false);
        }
        await output.WriteLineAsync($"Final score: Mario {mario.Score}, Peach {peach.Score}").ConfigureAwait(false);
    }

    private static string Name(Choice choice) => choice.ToString().ToLowerInvariant();
}
