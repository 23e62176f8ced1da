namespace Re6st.Core.Randomness;

/// <summary>
/// xoshiro256** (Blackman and Vigna): fast, 256-bit state, identical output on every platform and
/// runtime version, which <see cref="Random"/> does not promise. Seeded through SplitMix64.
/// </summary>
public sealed class Xoshiro256StarStar : IRandomSource
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    public Xoshiro256StarStar(ulong seed)
    {
        var sm = seed;
        _s0 = SeedMixer.SplitMix64(ref sm);
        _s1 = SeedMixer.SplitMix64(ref sm);
        _s2 = SeedMixer.SplitMix64(ref sm);
        _s3 = SeedMixer.SplitMix64(ref sm);
    }

    /// <summary>An independent stream for one purpose, e.g. (seed, "select", node, period).</summary>
    public static Xoshiro256StarStar ForStream(ulong seed, params ReadOnlySpan<ulong> stream) =>
        new(SeedMixer.Combine(seed, stream));

    public ulong NextUInt64()
    {
        var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }
}
