namespace Re6st.Core.Randomness;

public static class RandomSourceExtensions
{
    /// <summary>Uniform integer in [0, maxExclusive), without modulo bias (Lemire's method).</summary>
    public static int NextInt(this IRandomSource random, int maxExclusive)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        var range = (ulong)maxExclusive;
        var m = (UInt128)random.NextUInt64() * range;
        var low = (ulong)m;
        if (low < range)
        {
            var threshold = (0UL - range) % range;
            while (low < threshold)
            {
                m = (UInt128)random.NextUInt64() * range;
                low = (ulong)m;
            }
        }

        return (int)(m >> 64);
    }

    /// <summary>Uniform double in [0, 1) with 53 random bits.</summary>
    public static double NextDouble(this IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return (random.NextUInt64() >> 11) * (1.0 / (1UL << 53));
    }

    /// <summary>True with the given probability.</summary>
    public static bool Chance(this IRandomSource random, double probability) => random.NextDouble() < probability;

    /// <summary>Rounds up with probability equal to the fractional part, so the expectation is exact.</summary>
    public static int RoundRandomly(this IRandomSource random, double value)
    {
        var floor = Math.Floor(value);
        return (int)floor + (random.Chance(value - floor) ? 1 : 0);
    }

    public static void Shuffle<T>(this IRandomSource random, Span<T> items)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = random.NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
