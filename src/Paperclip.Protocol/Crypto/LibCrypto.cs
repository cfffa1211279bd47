using System.Runtime.InteropServices;

namespace Paperclip.Protocol.Crypto;

/// <summary>
/// The few OpenSSL 3 libcrypto functions of a P-256 key agreement, called directly. .NET's
/// <c>ECDiffieHellman</c> on the same library validates the peer's key fully on import and again
/// when deriving (a scalar multiplication by the group order each time), which costs four times
/// the agreement itself; P-256 has prime order (cofactor 1), so a point on the curve that is not
/// the point at infinity is all the check needs. These are the EC_KEY / EC_POINT functions that
/// OpenSSL 3.0 marks deprecated but still exports: the EVP interface that replaces them builds a
/// provider key per peer. Constant-time scalar multiplication is OpenSSL's concern (its P-256
/// code runs in constant time for secret scalars).
/// </summary>
internal sealed unsafe class LibCrypto
{
    /// <summary>OpenSSL's <c>NID_X9_62_prime256v1</c>.</summary>
    public const int NidP256 = 415;

    /// <summary><c>POINT_CONVERSION_UNCOMPRESSED</c>: 0x04 || X || Y.</summary>
    public const int UncompressedForm = 4;

    private const ulong MinimumVersion = 0x3000_0000; // OpenSSL 3.0.0

    public readonly delegate* unmanaged<int, nint> EC_KEY_new_by_curve_name;
    public readonly delegate* unmanaged<nint, int> EC_KEY_generate_key;
    public readonly delegate* unmanaged<nint, int> EC_KEY_check_key;
    public readonly delegate* unmanaged<nint, void> EC_KEY_free;
    public readonly delegate* unmanaged<nint, nint> EC_KEY_get0_group;
    public readonly delegate* unmanaged<nint, nint> EC_KEY_get0_public_key;
    public readonly delegate* unmanaged<nint, nint, int> EC_KEY_set_private_key;
    public readonly delegate* unmanaged<nint, nint, int> EC_KEY_set_public_key;
    public readonly delegate* unmanaged<nint, nint> EC_POINT_new;
    public readonly delegate* unmanaged<nint, void> EC_POINT_free;
    public readonly delegate* unmanaged<nint, nint, nint, nint, nint, nint, int> EC_POINT_mul;
    public readonly delegate* unmanaged<nint, nint, byte*, nuint, nint, int> EC_POINT_oct2point;
    public readonly delegate* unmanaged<nint, nint, int, byte*, nuint, nint, nuint> EC_POINT_point2oct;
    public readonly delegate* unmanaged<nint, nint, nint, int> EC_POINT_is_on_curve;
    public readonly delegate* unmanaged<nint, nint, int> EC_POINT_is_at_infinity;
    public readonly delegate* unmanaged<byte*, nuint, nint, nint, nint, int> ECDH_compute_key;
    public readonly delegate* unmanaged<byte*, int, nint, nint> BN_bin2bn;
    public readonly delegate* unmanaged<nint, void> BN_clear_free;
    public readonly delegate* unmanaged<void> ERR_clear_error;
    private readonly delegate* unmanaged<nuint> OpenSSL_version_num;

    private bool _complete = true; // false once an export is missing

    private LibCrypto(nint library)
    {
        EC_KEY_new_by_curve_name = (delegate* unmanaged<int, nint>)Export(library, "EC_KEY_new_by_curve_name");
        EC_KEY_generate_key = (delegate* unmanaged<nint, int>)Export(library, "EC_KEY_generate_key");
        EC_KEY_check_key = (delegate* unmanaged<nint, int>)Export(library, "EC_KEY_check_key");
        EC_KEY_free = (delegate* unmanaged<nint, void>)Export(library, "EC_KEY_free");
        EC_KEY_get0_group = (delegate* unmanaged<nint, nint>)Export(library, "EC_KEY_get0_group");
        EC_KEY_get0_public_key = (delegate* unmanaged<nint, nint>)Export(library, "EC_KEY_get0_public_key");
        EC_KEY_set_private_key = (delegate* unmanaged<nint, nint, int>)Export(library, "EC_KEY_set_private_key");
        EC_KEY_set_public_key = (delegate* unmanaged<nint, nint, int>)Export(library, "EC_KEY_set_public_key");
        EC_POINT_new = (delegate* unmanaged<nint, nint>)Export(library, "EC_POINT_new");
        EC_POINT_free = (delegate* unmanaged<nint, void>)Export(library, "EC_POINT_free");
        EC_POINT_mul = (delegate* unmanaged<nint, nint, nint, nint, nint, nint, int>)Export(library, "EC_POINT_mul");
        EC_POINT_oct2point = (delegate* unmanaged<nint, nint, byte*, nuint, nint, int>)Export(library, "EC_POINT_oct2point");
        EC_POINT_point2oct = (delegate* unmanaged<nint, nint, int, byte*, nuint, nint, nuint>)Export(library, "EC_POINT_point2oct");
        EC_POINT_is_on_curve = (delegate* unmanaged<nint, nint, nint, int>)Export(library, "EC_POINT_is_on_curve");
        EC_POINT_is_at_infinity = (delegate* unmanaged<nint, nint, int>)Export(library, "EC_POINT_is_at_infinity");
        ECDH_compute_key = (delegate* unmanaged<byte*, nuint, nint, nint, nint, int>)Export(library, "ECDH_compute_key");
        BN_bin2bn = (delegate* unmanaged<byte*, int, nint, nint>)Export(library, "BN_bin2bn");
        BN_clear_free = (delegate* unmanaged<nint, void>)Export(library, "BN_clear_free");
        ERR_clear_error = (delegate* unmanaged<void>)Export(library, "ERR_clear_error");
        OpenSSL_version_num = (delegate* unmanaged<nuint>)Export(library, "OpenSSL_version_num");
    }

    /// <summary>
    /// The process's libcrypto when it is OpenSSL 3 on Linux (the library .NET itself uses there);
    /// null elsewhere — Windows, macOS, an older OpenSSL — where .NET's ECDiffieHellman does the work.
    /// </summary>
    public static LibCrypto? Shared { get; } = OperatingSystem.IsLinux() ? TryLoad("libcrypto.so.3") : null;

    /// <summary>Loads <paramref name="libraryName"/>; null when it is missing, lacks a function or is older than OpenSSL 3.0.</summary>
    public static LibCrypto? TryLoad(string libraryName)
    {
        if (!NativeLibrary.TryLoad(libraryName, out var library))
            return null;
        var libCrypto = new LibCrypto(library);
        if (libCrypto._complete && libCrypto.OpenSSL_version_num() >= MinimumVersion)
            return libCrypto;
        // Nothing of it is referenced any more; the handle is reference-counted by the loader.
        NativeLibrary.Free(library);
        return null;
    }

    private nint Export(nint library, string name)
    {
        if (NativeLibrary.TryGetExport(library, name, out var address))
            return address;
        _complete = false;
        return 0;
    }
}
