using System.Net;
using Re6st.Core.Addressing;

namespace Re6st.Agent.Babel;

/// <summary>
/// A route babeld learned from a neighbour. Several may exist per prefix (one per neighbour that
/// announced it); <see cref="Installed"/> marks the one in the kernel's routing table.
/// </summary>
/// <remarks>
/// CAVEAT: babeld 1.12 keeps a route whose metric became infinite (retracted, or heard from a
/// neighbour that cannot hear us back, e.g. one that rejects our HMAC) installed as an
/// <c>unreachable</c> kernel route and reports it <c>installed yes metric 65535</c>. Such a route
/// carries no traffic: see <see cref="Carries"/>.
/// </remarks>
public sealed record BabelRoute(
    string Id,
    IpPrefix Prefix,
    IpPrefix From,
    bool Installed,
    string RouterId,
    int Metric,
    int RefMetric,
    IPAddress Via,
    string Interface) : BabelEntry(Id)
{
    public const int Infinity = 0xFFFF;

    /// <summary>In the kernel with a finite metric: packets to <see cref="Prefix"/> go out through <see cref="Interface"/>.</summary>
    public bool Carries => Installed && Metric < Infinity;
}
