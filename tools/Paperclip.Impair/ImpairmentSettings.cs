namespace Paperclip.Impair;

/// <summary>What the proxy does to the datagrams of one direction. Probabilities are 0 … 1.</summary>
public sealed record DirectionSettings
{
    /// <summary>Fraction of datagrams lost, on average (bursts included).</summary>
    public double Loss { get; init; }

    /// <summary>Datagrams lost in a row once a loss starts (1 = independent losses).</summary>
    public int BurstLength { get; init; } = 1;

    /// <summary>Probability that a datagram is delivered twice.</summary>
    public double Duplicate { get; init; }

    /// <summary>Probability that a datagram is held back by <see cref="ReorderDelay"/> so later ones overtake it.</summary>
    public double Reorder { get; init; }

    /// <summary>How long a reordered datagram is held back on top of its delay.</summary>
    public TimeSpan ReorderDelay { get; init; } = TimeSpan.FromMilliseconds(30);

    /// <summary>Probability that one byte of a datagram is changed (XOR with a random non-zero value).</summary>
    public double Corrupt { get; init; }

    /// <summary>Base one-way delay.</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>The delay varies uniformly within ± this.</summary>
    public TimeSpan Jitter { get; init; }

    /// <summary>Time after the proxy starts when a blackhole (everything dropped) begins; ignored when <see cref="BlackholeFor"/> is zero.</summary>
    public TimeSpan BlackholeAfter { get; init; }

    /// <summary>How long the blackhole lasts.</summary>
    public TimeSpan BlackholeFor { get; init; }

    /// <summary>Nothing is changed: datagrams are forwarded at once.</summary>
    public static DirectionSettings None { get; } = new();

    /// <summary>True when datagrams may wait (delay, jitter or reordering).</summary>
    internal bool Delays => Delay > TimeSpan.Zero || Jitter > TimeSpan.Zero || Reorder > 0;

    /// <summary>
    /// Probability that a loss burst starts at a datagram outside a burst, so that on average
    /// <see cref="Loss"/> of all datagrams are lost: a burst of B follows (1 − s)/s delivered
    /// datagrams on average, so Loss = B / ((1 − s)/s + B), that is s = L / (L + B(1 − L)).
    /// </summary>
    internal double BurstStartProbability
    {
        get
        {
            if (Loss <= 0)
                return 0;
            if (Loss >= 1)
                return 1;
            var burst = Math.Max(1, BurstLength);
            return Loss / (Loss + burst * (1 - Loss));
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> for a value out of range.</summary>
    public void Validate(string direction)
    {
        Check(Loss, nameof(Loss));
        Check(Duplicate, nameof(Duplicate));
        Check(Reorder, nameof(Reorder));
        Check(Corrupt, nameof(Corrupt));
        if (BurstLength < 1)
            throw new ArgumentException($"{direction} {nameof(BurstLength)} must be at least 1.");
        if (Delay < TimeSpan.Zero || Jitter < TimeSpan.Zero || ReorderDelay < TimeSpan.Zero || BlackholeAfter < TimeSpan.Zero || BlackholeFor < TimeSpan.Zero)
            throw new ArgumentException($"{direction}: times must not be negative.");

        void Check(double value, string name)
        {
            if (value is < 0 or > 1 || double.IsNaN(value))
                throw new ArgumentException($"{direction} {name} must be within 0 … 1.");
        }
    }
}

/// <summary>The proxy's settings: where it listens, where it forwards, and what it does each way.</summary>
public sealed record ImpairmentSettings
{
    /// <summary>Where clients send (port 0: the system picks one).</summary>
    public System.Net.IPEndPoint Listen { get; init; } = new(System.Net.IPAddress.Loopback, 0);

    /// <summary>The server the proxy forwards to.</summary>
    public required System.Net.IPEndPoint Target { get; init; }

    /// <summary>Client to server.</summary>
    public DirectionSettings Up { get; init; } = DirectionSettings.None;

    /// <summary>Server to client.</summary>
    public DirectionSettings Down { get; init; } = DirectionSettings.None;

    /// <summary>Seed of the random generators (one per direction, derived from it).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Kernel buffer size of every proxy socket.</summary>
    public int SocketBufferSize { get; init; } = 4 << 20;

    /// <summary>Both directions alike.</summary>
    public static ImpairmentSettings Symmetric(System.Net.IPEndPoint target, DirectionSettings both, int seed = 1) =>
        new() { Target = target, Up = both, Down = both, Seed = seed };
}

/// <summary>Client to server, or server to client.</summary>
public enum Direction
{
    /// <summary>Client to server.</summary>
    Up,
    /// <summary>Server to client.</summary>
    Down,
}
