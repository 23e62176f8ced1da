using Re6st.Agent.Membership;
using Re6st.Lab.Netns;
using Re6st.Core.Addressing;
using Re6st.Core.Arrows;
using Re6st.Core.Planning;
using Re6st.Core.Policy;
using Re6st.Core.Randomness;

namespace Re6st.Lab.Agents;

/// <summary>
/// The operator's part in the lab: node plans (hand-made for one flat mesh, or the core's planner's)
/// and the plan file each host reads.
/// </summary>
public static class LabOperator
{
    private static readonly IpPrefix FlatRange = IpPrefix.Parse("fd5e:6a00::/48");

    /// <summary>a, b, c, ...</summary>
    public static IReadOnlyList<string> HostNames(int count) => [.. Enumerable.Range(0, count).Select(i => ((char)('a' + i)).ToString())];

    /// <summary>The core's plan of <paramref name="spec"/> for these hosts (capacity 1 each), from no previous plan.</summary>
    public static MeshPlan Plan(MeshSpec spec, IReadOnlyList<string> hosts, ulong seed)
    {
        var layout = MeshValidator.Validate(spec).ValueOrThrow();
        var plan = MeshPlanner.Plan(layout, [.. hosts.Select(NodeInfo.Named)], previous: null, reelectBridges: false, new Xoshiro256StarStar(seed));
        if (plan.Errors.Count > 0)
        {
            throw new InvalidOperationException($"the planner left hosts out: {string.Join("; ", plan.Errors)}");
        }

        return plan;
    }

    /// <summary>One flat sub-mesh "root" in which the host announces its own prefixes.</summary>
    public static NodePlan FlatPlan(LabHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        return new NodePlan(host.Name, "root", host.Ipv6Prefix, host.Ipv4Prefix,
            [new MembershipPlan("root", MembershipRole.Home, null, FlatRange, null, [host.Ipv6Prefix, host.Ipv4Prefix], [])]);
    }

    /// <summary>
    /// What the operator writes for each host: its plan, and the members of its sub-meshes (every
    /// other host that shares one with it, with that host's sub-meshes).
    /// </summary>
    /// <param name="labels">Node labels per host name, as the operator copies them from Node objects.</param>
    public static IEnumerable<PlanFile> Files(IReadOnlyList<NodePlan> plans, RandomizationPolicySpec policy, TimeSpan helloInterval, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? labels = null)
    {
        var subMeshes = plans.ToDictionary(p => p.Name, p => p.Memberships.Select(m => m.SubMesh).ToList(), StringComparer.Ordinal);
        MemberFile Member(NodePlan p) => new(p.Name, subMeshes[p.Name]) { Labels = labels?.GetValueOrDefault(p.Name), Prefixes = [.. new[] { p.Ipv6Prefix, p.Ipv4Prefix }.OfType<IpPrefix>()] };
        foreach (var plan in plans)
        {
            var members = plans
                .Where(other => other.Name != plan.Name && subMeshes[other.Name].Intersect(subMeshes[plan.Name], StringComparer.Ordinal).Any())
                .Select(Member)
                .ToList();
            yield return new PlanFile(plan, policy, helloInterval, members) { Self = Member(plan) };
        }
    }
}
