using Re6st.Core.Addressing;

namespace Re6st.Agent.Tests.Lab;

/// <summary>
/// A host of the lab: a network namespace with its node prefixes announced the way the agent does
/// it: an address on lo and an unreachable kernel route for the whole prefix.
/// </summary>
public sealed record LabHost(string Name, string Namespace, int Index)
{
    public IpPrefix Ipv6Prefix => IpPrefix.Parse($"fd5e:6a00:0:{Index:x}::/64");

    public string Ipv6Address => $"fd5e:6a00:0:{Index:x}::1";

    public IpPrefix Ipv4Prefix => IpPrefix.Parse($"10.66.{Index}.0/24");

    public string Ipv4Address => $"10.66.{Index}.1";

    public override string ToString() => $"{Name} ({Namespace})";
}
