using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Paperclip.Protocol.Crypto;

/// <summary>
/// Imported verification keys by their SubjectPublicKeyInfo bytes. Importing a public key
/// checks its point (a scalar multiplication on P-256) and costs as much as the verification
/// itself; the same account and server keys come back on every handshake, so the import is
/// done once. Bounded: past <see cref="Capacity"/> keys the cache starts over, and the keys it
/// drops are freed by their finalizers (one may still be verifying on another thread).
/// </summary>
internal static class PublicKeyCache
{
    public const int Capacity = 4096;

    private static readonly ConcurrentDictionary<byte[], CachedKey> Keys = new(SpanComparer.Instance);

    /// <summary>The imported key for <paramref name="subjectPublicKeyInfo"/>, or false when it is not a supported key.</summary>
    public static bool TryGet(ReadOnlySpan<byte> subjectPublicKeyInfo, [NotNullWhen(true)] out CachedKey? key)
    {
#if NET9_0_OR_GREATER
        if (Keys.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(subjectPublicKeyInfo, out key))
            return true;
#else
        if (Keys.TryGetValue(subjectPublicKeyInfo.ToArray(), out key)) // .NET 8 has no span lookup
            return true;
#endif
        if (!Signatures.TryImportPublicKey(subjectPublicKeyInfo, out var imported))
            return false;
        if (Keys.Count >= Capacity)
            Keys.Clear();
        key = Keys.GetOrAdd(subjectPublicKeyInfo.ToArray(), new CachedKey(imported));
        if (!ReferenceEquals(key.Key, imported))
            imported.Dispose(); // another thread imported the same key first
        return true;
    }

    /// <summary>An imported key; verifications on it are serialised (the platform object is not documented thread-safe).</summary>
    internal sealed class CachedKey(AsymmetricAlgorithm key)
    {
        public AsymmetricAlgorithm Key { get; } = key;

#if NET9_0_OR_GREATER
        public Lock Lock { get; } = new();
#else
        public object Lock { get; } = new();
#endif
    }

    private sealed class SpanComparer : IEqualityComparer<byte[]>
#if NET9_0_OR_GREATER
        , IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
#endif
    {
        public static readonly SpanComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => Hash(obj);

#if NET9_0_OR_GREATER
        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<byte> alternate) => Hash(alternate);

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
#endif

        private static int Hash(ReadOnlySpan<byte> bytes)
        {
            var hash = new HashCode();
            hash.AddBytes(bytes);
            return hash.ToHashCode();
        }
    }
}
