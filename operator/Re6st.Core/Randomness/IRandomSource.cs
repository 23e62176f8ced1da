namespace Re6st.Core.Randomness;

/// <summary>
/// The only way randomness enters the core. Callers inject a seeded source, so every decision
/// is reproducible from (seed, inputs); nothing in the core reads <see cref="Random.Shared"/>.
/// </summary>
public interface IRandomSource
{
    ulong NextUInt64();
}
