using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;

namespace Paperclip.Transport.Internal.Handshake;

/// <summary>
/// Stateless address-validation cookies (protocol §5.6): <c>t (u32 Unix seconds) ||
/// HMAC-SHA256(secret, t || address)[..16]</c>, valid for one lifetime; the secret is replaced
/// every lifetime and the previous one still accepted. Secrets are random per process and
/// zeroed when replaced.
/// </summary>
internal sealed class CookieProtector : IDisposable
{
    public const int CookieSize = 20;
    private const int MacSize = 16;
    private readonly TimeProvider _time;
    private readonly long _lifetimeSeconds;
    private readonly Lock _lock = new();
    private byte[] _current = RandomNumberGenerator.GetBytes(32);
    private byte[] _previous = RandomNumberGenerator.GetBytes(32);
    private long _rotatedAt;

    public CookieProtector(TimeProvider time, TimeSpan lifetime)
    {
        _time = time;
        _lifetimeSeconds = (long)lifetime.TotalSeconds;
        _rotatedAt = time.GetUtcNow().ToUnixTimeSeconds();
    }

    /// <summary>Writes a cookie for <paramref name="address"/> (the raw socket address bytes: IP and port).</summary>
    public void Create(SocketAddress address, Span<byte> cookie)
    {
        var now = (uint)_time.GetUtcNow().ToUnixTimeSeconds();
        BinaryPrimitives.WriteUInt32BigEndian(cookie, now);
        lock (_lock)
        {
            Rotate(now);
            Mac(_current, now, address, cookie.Slice(4, MacSize));
        }
    }

    /// <summary>True when <paramref name="cookie"/> was made for this address, recently, with a current secret. One HMAC or two.</summary>
    public bool Validate(ReadOnlySpan<byte> cookie, SocketAddress address)
    {
        if (cookie.Length != CookieSize)
            return false;
        var issued = BinaryPrimitives.ReadUInt32BigEndian(cookie);
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        if (issued > now || now - issued > _lifetimeSeconds)
            return false;
        Span<byte> expected = stackalloc byte[MacSize];
        lock (_lock)
        {
            Rotate(now);
            Mac(_current, issued, address, expected);
            if (CryptographicOperations.FixedTimeEquals(expected, cookie.Slice(4, MacSize)))
                return true;
            Mac(_previous, issued, address, expected);
            return CryptographicOperations.FixedTimeEquals(expected, cookie.Slice(4, MacSize));
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            CryptographicOperations.ZeroMemory(_current);
            CryptographicOperations.ZeroMemory(_previous);
        }
    }

    private void Rotate(long now)
    {
        if (now - _rotatedAt < _lifetimeSeconds)
            return;
        CryptographicOperations.ZeroMemory(_previous);
        _previous = _current;
        _current = RandomNumberGenerator.GetBytes(32);
        _rotatedAt = now;
    }

    private static void Mac(byte[] secret, uint issued, SocketAddress address, Span<byte> destination)
    {
        Span<byte> input = stackalloc byte[4 + address.Size];
        BinaryPrimitives.WriteUInt32BigEndian(input, issued);
        address.Buffer.Span[..address.Size].CopyTo(input[4..]);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(secret, input, mac);
        mac[..destination.Length].CopyTo(destination);
    }
}
