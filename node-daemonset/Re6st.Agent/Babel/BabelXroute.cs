using Re6st.Core.Addressing;

namespace Re6st.Agent.Babel;

/// <summary>A route this babeld originates (redistributed from the kernel).</summary>
public sealed record BabelXroute(string Id, IpPrefix Prefix, IpPrefix From, int Metric) : BabelEntry(Id);
