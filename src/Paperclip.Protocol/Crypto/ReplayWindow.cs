using System.Numerics;

namespace Paperclip.Protocol.Crypto;

/// <summary>
/// The receiver's replay window over packet numbers (protocol §6.4): the highest PN opened and a
/// bitmap of the <see cref="Size"/> PNs ending at it. Check <see cref="IsFresh"/> before opening
/// and <see cref="Record"/> only after a successful open, so a forgery never moves the window.
/// Allocates nothing after construction. Not thread safe.
/// </summary>
public sealed class ReplayWindow
{
    // A ring of bits indexed by PN mod Size; it covers (Highest - Size, Highest].
    private readonly ulong[] _bits;
    private readonly ulong _mask;
    private ulong _highest;
    private bool _any;

    /// <summary>Creates an empty window of <see cref="ProtocolConstants.ReplayWindowSize"/> packet numbers.</summary>
    public ReplayWindow() : this(ProtocolConstants.ReplayWindowSize) { }

    /// <summary>Creates an empty window.</summary>
    /// <param name="size">Packet numbers tracked: a power of two, at least <see cref="ProtocolConstants.ReplayWindowSize"/>.</param>
    public ReplayWindow(int size)
    {
        if (size < ProtocolConstants.ReplayWindowSize || !BitOperations.IsPow2(size))
            throw new ArgumentOutOfRangeException(nameof(size), size, $"The window must be a power of two of at least {ProtocolConstants.ReplayWindowSize}.");
        _bits = new ulong[size / 64];
        _mask = (ulong)size - 1;
    }

    /// <summary>Packet numbers the window tracks.</summary>
    public int Size => _bits.Length * 64;

    /// <summary>The highest packet number recorded (0 while <see cref="IsEmpty"/>).</summary>
    public ulong Highest => _highest;

    /// <summary>True until the first packet number is recorded.</summary>
    public bool IsEmpty => !_any;

    /// <summary>
    /// True when <paramref name="packetNumber"/> may be opened: above the highest, or inside the
    /// window and not yet recorded. False at or below <c>Highest − Size</c> or when already recorded.
    /// </summary>
    public bool IsFresh(ulong packetNumber)
    {
        if (!_any || packetNumber > _highest)
            return true;
        if (_highest - packetNumber >= (ulong)Size)
            return false;
        return !IsMarked(packetNumber);
    }

    /// <summary>
    /// Marks <paramref name="packetNumber"/> as opened, moving the window up when it is the new
    /// highest. A number too old for the window is ignored (<see cref="IsFresh"/> refused it already).
    /// </summary>
    public void Record(ulong packetNumber)
    {
        if (!_any)
        {
            _any = true;
            _highest = packetNumber;
        }
        else if (packetNumber > _highest)
        {
            Advance(packetNumber);
        }
        else if (_highest - packetNumber >= (ulong)Size)
        {
            return;
        }
        var index = packetNumber & _mask;
        _bits[index >> 6] |= 1UL << (int)(index & 63);
    }

    private bool IsMarked(ulong packetNumber)
    {
        var index = packetNumber & _mask;
        return (_bits[index >> 6] & (1UL << (int)(index & 63))) != 0;
    }

    // Clears the bits of the numbers that enter the window between the old and the new highest.
    private void Advance(ulong packetNumber)
    {
        var jump = packetNumber - _highest;
        if (jump >= (ulong)Size)
        {
            Array.Clear(_bits);
        }
        else
        {
            // Counted rather than compared with packetNumber, so a PN near ulong.MaxValue cannot wrap the loop.
            var pn = _highest + 1;
            for (var left = jump; left > 0;)
            {
                var index = pn & _mask;
                if ((index & 63) == 0 && left >= 64)
                {
                    _bits[index >> 6] = 0;
                    pn += 64;
                    left -= 64;
                }
                else
                {
                    _bits[index >> 6] &= ~(1UL << (int)(index & 63));
                    pn++;
                    left--;
                }
            }
        }
        _highest = packetNumber;
    }
}
