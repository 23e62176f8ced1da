using Re6st.Agent.Lifecycle;
using Re6st.Lab.Netns;

namespace Re6st.Lab.Agents;

/// <summary>A pair of hosts whose route goes over the arrow between them, with both of its ends.</summary>
public sealed record DirectArrow(HostAgent From, LabHost Source, ArrowRecord AtSource, HostAgent To, LabHost Destination, ArrowRecord AtDestination)
{
    /// <summary>The end of the arrow its initiator owns (the one the policy drains), and that host.</summary>
    public (HostAgent Owner, ArrowRecord Arrow) Initiator => AtSource.Initiated ? (From, AtSource) : (To, AtDestination);

    public static DirectArrow Find(AgentMesh mesh)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        foreach (var from in mesh.Agents)
        {
            foreach (var to in mesh.Agents.Where(a => a != from))
            {
                var destination = mesh.Hosts.Single(h => h.Name == to.Node);
                var route = from.Babel.InstalledRouteTo(destination.Ipv6Prefix);
                var here = from.Arrows.FirstOrDefault(a => a.Interface == route?.Interface && a.Peer == to.Node);
                var there = here is null ? null : to.Arrows.FirstOrDefault(a => a.Peer == from.Node && a.SubMesh == here.SubMesh && a.Id == here.Id);
                if (here is not null && there is not null)
                {
                    return new DirectArrow(from, mesh.Hosts.Single(h => h.Name == from.Node), here, to, destination, there);
                }
            }
        }

        throw new InvalidOperationException("no route goes over a direct arrow");
    }
}
