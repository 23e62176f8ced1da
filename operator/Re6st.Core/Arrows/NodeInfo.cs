using Re6st.Core.Policy;

namespace Re6st.Core.Arrows;

/// <summary>
/// What the core knows of a host: its name, labels (which only named exceptions may read),
/// declared capacity (weights bridge election, nothing else) and the tunnel technologies it runs.
/// </summary>
public sealed record NodeInfo(
    string Name,
    IReadOnlyDictionary<string, string> Labels,
    double Capacity = 1,
    TunnelTechnology Technologies = TunnelTechnology.All)
{
    public static IReadOnlyDictionary<string, string> NoLabels { get; } = new Dictionary<string, string>();

    public static NodeInfo Named(string name) => new(name, NoLabels);
}
