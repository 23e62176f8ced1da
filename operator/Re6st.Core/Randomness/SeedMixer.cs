namespace Re6st.Core.Randomness;

/// <summary>Deterministic derivation of independent seeds from a seed and a stream path.</summary>
public static class SeedMixer
{
    public static ulong SplitMix64(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        var z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public static ulong Combine(ulong seed, ReadOnlySpan<ulong> stream)
    {
        var state = seed;
        var h = SplitMix64(ref state);
        foreach (var part in stream)
        {
            state = h ^ part;
            h = SplitMix64(ref state);
        }

        return h;
    }

    /// <summary>FNV-1a over UTF-16 code units: a stable string hash (string.GetHashCode is randomized per process).</summary>
    public static ulong Hash(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var h = 0xCBF29CE484222325UL;
        foreach (var c in text)
        {
            h ^= c;
            h *= 0x100000001B3UL;
        }

        var state = h;
        return SplitMix64(ref state);
    }
}
