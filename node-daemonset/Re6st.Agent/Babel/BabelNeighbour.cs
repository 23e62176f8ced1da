using System.Net;

namespace Re6st.Agent.Babel;

/// <summary>
/// A Babel neighbour on one interface. <see cref="Reach"/> is the bitmap of the last 16 expected
/// hellos (most recent first); costs of 65535 mean unreachable. <see cref="RttMs"/> is measured
/// inside the tunnel (timestamps are on by default on tunnel interfaces).
/// </summary>
public sealed record BabelNeighbour(
    string Id,
    IPAddress Address,
    string Interface,
    ushort Reach,
    ushort UnicastReach,
    int RxCost,
    int TxCost,
    double? RttMs,
    int? RttCost,
    int Cost) : BabelEntry(Id)
{
    public const int Infinity = 0xFFFF;
}
