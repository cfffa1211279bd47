using Paperclip.Games;
using Paperclip.Games.RockPaperScissors;
using Paperclip.Protocol.Certificates;
using Paperclip.Protocol.Crypto;
using Paperclip.Transport;

// Paperclip.Protocol: an account key and its certificate, checked against the public key.
using var accountKey = AccountKey.Generate();
var now = DateTimeOffset.UtcNow;
var certificate = AccountCertificate.Create(accountKey, accountId: 1, username: "sample", now.AddMinutes(-1), TimeSpan.FromHours(1));
if (!AccountCertificate.Validate(certificate, AccountKey.ExportPublicKey(accountKey), now))
{
    Console.Error.WriteLine("The account certificate does not check out.");
    return 1;
}

// The handshake's X25519 key agreement (libsodium's native library, called directly).
using var ours = EphemeralKey.Generate(KeyAgreement.X25519);
using var theirs = EphemeralKey.Generate(KeyAgreement.X25519);
var secret = new byte[EphemeralKey.SharedSecretSize];
var same = new byte[EphemeralKey.SharedSecretSize];
if (!ours.TryDeriveSharedSecret(theirs.PublicKey, secret) || !theirs.TryDeriveSharedSecret(ours.PublicKey, same) || !secret.AsSpan().SequenceEqual(same))
{
    Console.Error.WriteLine("X25519 key agreement failed.");
    return 1;
}

// Paperclip.Games: the rock-paper-scissors game.
IGame game = new RockPaperScissorsGame();

// Paperclip.Transport: a client for a lobby (not connected: there is no server here).
using var serverKey = AccountKey.Generate();
await using var client = new PaperclipClient(new PaperclipClientOptions
{
    Certificate = certificate,
    PrivateKey = accountKey,
    ServerPublicKey = AccountKey.ExportPublicKey(serverKey),
});
client.DataReceived += (data, message) => Console.WriteLine($"{data.Length} bytes");
Console.WriteLine($"ok: {game.Descriptor.Name} (game {game.Descriptor.Id}, {game.Descriptor.MinPlayers}–{game.Descriptor.MaxPlayers} players), a certificate of {certificate.Length} bytes, a client for protocol version {client.Options.ProtocolVersion}");
return 0;
