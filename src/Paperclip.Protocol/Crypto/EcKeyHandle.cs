using System.Runtime.InteropServices;

namespace Paperclip.Protocol.Crypto;

/// <summary>
/// An OpenSSL <c>EC_KEY</c> holding a private key. <c>EC_KEY_free</c> clears the private scalar
/// before freeing it; disposal does that at once, the finalizer if a handshake was abandoned.
/// </summary>
internal sealed unsafe class EcKeyHandle : SafeHandle
{
    private readonly LibCrypto _libCrypto;

    public EcKeyHandle(LibCrypto libCrypto, nint key)
        : base(0, ownsHandle: true)
    {
        _libCrypto = libCrypto;
        SetHandle(key);
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        _libCrypto.EC_KEY_free(handle);
        return true;
    }
}
