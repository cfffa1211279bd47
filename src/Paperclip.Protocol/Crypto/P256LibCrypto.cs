using System.Security.Cryptography;

namespace Paperclip.Protocol.Crypto;

/// <summary>
/// A P-256 key pair for one handshake in OpenSSL's own <c>EC_KEY</c>: the private scalar never
/// leaves native memory, and the agreement checks the peer's point (on the curve, not at
/// infinity) once instead of .NET's two full validations.
/// </summary>
internal sealed unsafe class P256LibCrypto : IDisposable
{
    /// <summary>Bytes of an uncompressed point: 0x04 || X || Y.</summary>
    public const int PointSize = 65;

    private const int ScalarSize = 32;

    private readonly LibCrypto _libCrypto;
    private readonly EcKeyHandle _key;

    private P256LibCrypto(LibCrypto libCrypto, EcKeyHandle key)
    {
        _libCrypto = libCrypto;
        _key = key;
    }

    /// <summary>A fresh random key pair (OpenSSL's generator and random source).</summary>
    public static P256LibCrypto Generate(LibCrypto libCrypto)
    {
        var key = NewKey(libCrypto);
        if (libCrypto.EC_KEY_generate_key(key.DangerousGetHandle()) != 1)
            throw Failure(libCrypto, key, "generate a P-256 key");
        return new P256LibCrypto(libCrypto, key);
    }

    /// <summary>The key pair of a 32-byte big-endian private scalar in [1, n − 1] (for test vectors).</summary>
    public static P256LibCrypto Import(LibCrypto libCrypto, ReadOnlySpan<byte> scalar32)
    {
        if (scalar32.Length != ScalarSize)
            throw new ArgumentException($"A P-256 private scalar is {ScalarSize} bytes.", nameof(scalar32));
        var key = NewKey(libCrypto);
        var handle = key.DangerousGetHandle();
        nint scalar = 0;
        nint point = 0;
        try
        {
            fixed (byte* bytes = scalar32)
                scalar = libCrypto.BN_bin2bn(bytes, ScalarSize, 0);
            var group = libCrypto.EC_KEY_get0_group(handle);
            point = scalar == 0 ? 0 : libCrypto.EC_POINT_new(group);
            // EC_KEY_check_key: the scalar is below the order and d·G is the public point.
            if (point == 0
                || libCrypto.EC_KEY_set_private_key(handle, scalar) != 1
                || libCrypto.EC_POINT_mul(group, point, scalar, 0, 0, 0) != 1
                || libCrypto.EC_KEY_set_public_key(handle, point) != 1
                || libCrypto.EC_KEY_check_key(handle) != 1)
                throw Failure(libCrypto, key, "import the P-256 private scalar");
            return new P256LibCrypto(libCrypto, key);
        }
        finally
        {
            if (point != 0)
                libCrypto.EC_POINT_free(point);
            if (scalar != 0)
                libCrypto.BN_clear_free(scalar);
        }
    }

    /// <summary>Writes the public point, uncompressed (<see cref="PointSize"/> bytes).</summary>
    public void WritePublicPoint(Span<byte> destination)
    {
        var added = false;
        try
        {
            _key.DangerousAddRef(ref added);
            var handle = _key.DangerousGetHandle();
            nuint written;
            fixed (byte* bytes = destination)
                written = _libCrypto.EC_POINT_point2oct(_libCrypto.EC_KEY_get0_group(handle), _libCrypto.EC_KEY_get0_public_key(handle),
                    LibCrypto.UncompressedForm, bytes, (nuint)destination.Length, 0);
            if (written != PointSize)
                throw Failure(_libCrypto, null, "encode the P-256 public key");
        }
        finally
        {
            if (added)
                _key.DangerousRelease();
        }
    }

    /// <summary>
    /// Z, the X coordinate of d·Q, for the peer's SEC 1 encoded point Q; false when Q does not
    /// decode to a point on P-256 or is the point at infinity. With a prime order group (cofactor
    /// 1) that is the whole public-key check of SP 800-56A §5.6.2.3.4: no multiplication by the order.
    /// </summary>
    public bool TryAgree(ReadOnlySpan<byte> encodedPoint, Span<byte> sharedSecret)
    {
        if (sharedSecret.Length < ScalarSize)
            throw new ArgumentException($"The destination must hold {ScalarSize} bytes.", nameof(sharedSecret));
        var added = false;
        nint point = 0;
        try
        {
            _key.DangerousAddRef(ref added);
            var handle = _key.DangerousGetHandle();
            var group = _libCrypto.EC_KEY_get0_group(handle);
            point = _libCrypto.EC_POINT_new(group);
            if (point == 0)
                throw Failure(_libCrypto, null, "allocate a P-256 point");
            int decoded;
            fixed (byte* bytes = encodedPoint)
                decoded = _libCrypto.EC_POINT_oct2point(group, point, bytes, (nuint)encodedPoint.Length, 0);
            if (decoded != 1
                || _libCrypto.EC_POINT_is_on_curve(group, point, 0) != 1
                || _libCrypto.EC_POINT_is_at_infinity(group, point) != 0)
            {
                // The peer's doing, not ours: leave no error behind for the next OpenSSL caller on this thread.
                _libCrypto.ERR_clear_error();
                return false;
            }
            int agreed;
            fixed (byte* z = sharedSecret)
                agreed = _libCrypto.ECDH_compute_key(z, ScalarSize, point, handle, 0);
            if (agreed != ScalarSize)
                throw Failure(_libCrypto, null, "derive the P-256 shared secret");
            return true;
        }
        finally
        {
            if (point != 0)
                _libCrypto.EC_POINT_free(point);
            if (added)
                _key.DangerousRelease();
        }
    }

    /// <summary>Frees the key; OpenSSL clears the private scalar first.</summary>
    public void Dispose() => _key.Dispose();

    private static EcKeyHandle NewKey(LibCrypto libCrypto)
    {
        var key = libCrypto.EC_KEY_new_by_curve_name(LibCrypto.NidP256);
        if (key == 0)
            throw Failure(libCrypto, null, "create a P-256 key");
        return new EcKeyHandle(libCrypto, key);
    }

    private static CryptographicException Failure(LibCrypto libCrypto, EcKeyHandle? key, string what)
    {
        key?.Dispose();
        libCrypto.ERR_clear_error();
        return new CryptographicException($"OpenSSL could not {what}.");
    }
}
