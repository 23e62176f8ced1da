using Re6st.Core.Addressing;
using Re6st.Core.Planning;

namespace Re6st.Agent.Babel;

/// <summary>
/// What one host's babeld runs with. <see cref="Announce"/> lists the only prefixes it originates
/// (the node's own prefixes and, on bridges, the aggregates). babeld redistributes kernel routes,
/// so each must exist as one in the host, of any protocol but <c>boot</c> (the default of
/// <c>ip route add</c>): e.g. <c>unreachable P proto static</c>. A host-length prefix (/32, /128)
/// may instead be an address on <c>lo</c>.
/// </summary>
public sealed record BabelConfig(
    string ControlSocketPath,
    IReadOnlyList<BabelInterfaceConfig> Interfaces,
    IReadOnlyList<IpPrefix> Announce)
{
    public TimeSpan HelloInterval { get; init; } = TimeSpan.FromSeconds(4);

    public IReadOnlyList<BabelKey> Keys { get; init; } = [];

    /// <summary>The key of every interface that names none, including interfaces added later through the socket.</summary>
    public string? DefaultKeyId { get; init; }

    /// <summary>Carrier sense: an arrow whose tunnel loses carrier goes down at once rather than after missed hellos.</summary>
    public bool LinkDetect { get; init; } = true;

    /// <summary>
    /// The configuration of <paramref name="plan"/>'s host: every membership's interfaces carry that
    /// sub-mesh's out-filters, and the host originates the union of what its memberships announce
    /// (the filters keep each announcement out of the sub-meshes it must not enter).
    /// </summary>
    public static BabelConfig ForNode(
        NodePlan plan,
        IReadOnlyDictionary<string, IReadOnlyList<string>> interfacesBySubMesh,
        string controlSocketPath,
        BabelKey key,
        TimeSpan helloInterval)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(interfacesBySubMesh);
        ArgumentNullException.ThrowIfNull(key);
        foreach (var subMesh in interfacesBySubMesh.Keys)
        {
            if (!plan.Memberships.Any(m => m.SubMesh == subMesh))
            {
                throw new ArgumentException($"node '{plan.Name}' is not a member of sub-mesh '{subMesh}', yet interfaces are listed for it", nameof(interfacesBySubMesh));
            }
        }

        var interfaces = new List<BabelInterfaceConfig>();
        var announce = new List<IpPrefix>();
        foreach (var membership in plan.Memberships)
        {
            if (interfacesBySubMesh.TryGetValue(membership.SubMesh, out var names))
            {
                interfaces.AddRange(names.Select(name => new BabelInterfaceConfig(name) { DenyOut = membership.DenyOut }));
            }

            announce.AddRange(membership.Announce.Where(p => !announce.Contains(p)));
        }

        return new BabelConfig(controlSocketPath, interfaces, announce)
        {
            HelloInterval = helloInterval,
            Keys = [key],
            DefaultKeyId = key.Id,
        };
    }
}
