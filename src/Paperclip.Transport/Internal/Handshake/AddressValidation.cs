using System.Net;
using Paperclip.Protocol;

namespace Paperclip.Transport.Internal.Handshake;

/// <summary>
/// What the server knows of addresses before they are validated (protocol §5.5–§5.6): when a
/// cookie is demanded (always, never, or under load: too many handshakes pending or AUTH
/// packets in the last second), the stateless cookies themselves, and the three-times
/// anti-amplification budget of an address that has not finished its handshake.
/// </summary>
internal sealed class AddressValidation(CookieMode mode, int pendingThreshold, int authRateThreshold, TimeProvider time, TimeSpan cookieLifetime) : IDisposable
{
    /// <summary>Bytes an unvalidated address may be sent per byte it sent.</summary>
    public const int AmplificationFactor = 3;

    private readonly CookieProtector _cookies = new(time, cookieLifetime);
    private long _authWindowStartMs;
    private int _authsInWindow;
    private int _authsLastSecond;

    public static int CookieSize => CookieProtector.CookieSize;

    /// <summary>Counts an AUTH arriving at <paramref name="now"/> in the per-second rate window. I/O loop.</summary>
    public void CountAuth(long now)
    {
        if (now - _authWindowStartMs >= 1000)
        {
            Volatile.Write(ref _authsLastSecond, _authsInWindow);
            _authWindowStartMs = now;
            _authsInWindow = 0;
        }
        _authsInWindow++;
    }

    /// <summary>True when an AUTH must carry a valid cookie before anything else is done for it.</summary>
    public bool CookiesDemanded(int pendingHandshakes) => mode switch
    {
        CookieMode.Always => true,
        CookieMode.Automatic => pendingHandshakes > pendingThreshold || Volatile.Read(ref _authsLastSecond) > authRateThreshold || _authsInWindow > authRateThreshold,
        _ => false,
    };

    /// <summary>True when the AUTH's DATA (COOKIE_LEN, COOKIE, FALLBACK, padding) holds a cookie made for this address, recently.</summary>
    public bool HasValidCookie(ReadOnlySpan<byte> authData, SocketAddress from) =>
        ClientAuthData.TryRead(authData, out var cookie, out _) && cookie.Length == CookieProtector.CookieSize && _cookies.Validate(cookie, from);

    /// <summary>Writes a cookie for <paramref name="address"/> into <paramref name="cookie"/> (<see cref="CookieSize"/> bytes).</summary>
    public void CreateCookie(SocketAddress address, Span<byte> cookie) => _cookies.Create(address, cookie);

    /// <summary>True when <paramref name="length"/> more bytes stay within three times what the address sent.</summary>
    public static bool WithinAmplificationBudget(long bytesReceived, long bytesSent, int length) =>
        bytesSent + length <= AmplificationFactor * bytesReceived;

    public void Dispose() => _cookies.Dispose();
}
