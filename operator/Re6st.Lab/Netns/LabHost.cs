using Re6st.Core.Addressing;

namespace Re6st.Lab.Netns;

/// <summary>
/// A host of the lab: a network namespace with its node prefixes announced the way the agent does
/// it: an address on lo and an unreachable kernel route for the whole prefix. The prefixes follow
/// the host's index unless a plan gave the host others.
/// </summary>
public sealed record LabHost(string Name, string Namespace, int Index)
{
    public IpPrefix Ipv6Prefix { get; init; } = IpPrefix.Parse($"fd5e:6a00:0:{Index:x}::/64");

    public string Ipv6Address => FirstAddress(Ipv6Prefix);

    public IpPrefix Ipv4Prefix { get; init; } = IpPrefix.Parse($"10.66.{Index}.0/24");

    public string Ipv4Address => FirstAddress(Ipv4Prefix);

    public override string ToString() => $"{Name} ({Namespace})";

    /// <summary>The prefix's ::1 (or .1): the host's overlay address.</summary>
    private static string FirstAddress(IpPrefix prefix) => prefix.Subprefix(1, prefix.Width).ToString().Split('/')[0];
}
