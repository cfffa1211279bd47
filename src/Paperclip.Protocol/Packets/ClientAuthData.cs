namespace Paperclip.Protocol;

/// <summary>
/// The DATA of a client AUTH (protocol §5.1): <c>COOKIE_LEN u8, COOKIE, FALLBACK u8</c>, then zero
/// padding to the minimum AUTH size. A version-1 peer reads FALLBACK as padding.
/// </summary>
public static class ClientAuthData
{
    /// <summary>Bytes of DATA besides the cookie: COOKIE_LEN and FALLBACK.</summary>
    public const int Overhead = 2;

    /// <summary>The longest cookie COOKIE_LEN can announce.</summary>
    public const int MaxCookieLength = byte.MaxValue;

    /// <summary>Bytes of the whole client AUTH datagram whose header takes <paramref name="headerLength"/>: padded to ≥ 1200.</summary>
    public static int DatagramLength(int headerLength, int cookieLength) =>
        Math.Max(ProtocolConstants.MinClientAuthSize, headerLength + Overhead + cookieLength);

    /// <summary>
    /// Writes COOKIE_LEN, COOKIE and FALLBACK at the start of <paramref name="data"/> and zeroes the
    /// rest (the padding).
    /// </summary>
    /// <param name="data">Where DATA goes: from the end of the header to the end of the datagram.</param>
    /// <param name="cookie">The server's cookie, or empty.</param>
    /// <param name="fallback">0, or in an AUTH retried with a lower version the version first asked for.</param>
    public static void Write(Span<byte> data, ReadOnlySpan<byte> cookie, byte fallback)
    {
        if (cookie.Length > MaxCookieLength)
            throw new ArgumentException($"A cookie is at most {MaxCookieLength} bytes.", nameof(cookie));
        if (data.Length < Overhead + cookie.Length)
            throw new ArgumentException("DATA is too short for the cookie and FALLBACK.", nameof(data));
        data.Clear();
        data[0] = (byte)cookie.Length;
        cookie.CopyTo(data[1..]);
        data[1 + cookie.Length] = fallback;
    }

    /// <summary>Reads COOKIE and FALLBACK; false, never an exception, when DATA is too short for what COOKIE_LEN says.</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out ReadOnlySpan<byte> cookie, out byte fallback)
    {
        cookie = default;
        fallback = 0;
        if (data.IsEmpty || data.Length < Overhead + data[0])
            return false;
        cookie = data.Slice(1, data[0]);
        fallback = data[1 + data[0]];
        return true;
    }
}
