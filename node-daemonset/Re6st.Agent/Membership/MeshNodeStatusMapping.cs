using System.Net;
using Re6st.Contracts;
using Re6st.Core.Policy;

namespace Re6st.Agent.Membership;

/// <summary>What a host publishes (<see cref="PeerStatus"/>) as its MeshNode's status, and back.</summary>
public static class MeshNodeStatusMapping
{
    private const string Active = "active";
    private const string Draining = "draining";

    /// <summary>
    /// The status fields the agent owns. Arrows are sorted (initiated first, then by sub-mesh and
    /// peer) so that the same arrows always give the same status, whatever order they came in.
    /// </summary>
    public static MeshNodeStatus ToStatus(PeerStatus status, long? observedGeneration)
    {
        ArgumentNullException.ThrowIfNull(status);
        var initiated = status.Arrows.Select(a => new ArrowStatusResource
        {
            Id = a.Id,
            Peer = a.Peer,
            SubMesh = a.SubMesh,
            Initiated = true,
            Port = a.Port,
            State = a.Draining ? Draining : Active,
            Technology = a.Technology.ToName(),
            Since = a.Since is { } since ? StatusHeartbeat.Format(since) : null,
            Reason = a.Reason,
        });
        var accepted = status.Accepted.Select(a => new ArrowStatusResource
        {
            Peer = a.Peer,
            SubMesh = a.SubMesh,
            Initiated = false,
            Routes = a.Routes,
        });
        var arrows = initiated.Concat(accepted)
            .OrderByDescending(a => a.Initiated)
            .ThenBy(a => a.SubMesh, StringComparer.Ordinal)
            .ThenBy(a => a.Peer, StringComparer.Ordinal)
            .ToList();
        return new MeshNodeStatus
        {
            ObservedGeneration = observedGeneration,
            PublicKey = status.WireGuardKey,
            OpenVpnFingerprint = status.OpenVpnFingerprint,
            Technologies = status.Technologies is { } t ? TechnologyNames.FromCore(t) : null,
            Endpoints = [status.Underlay.ToString()],
            Arrows = arrows,
            ArrowCount = arrows.Count,
            Routes = status.Routes,
            HandOverUntil = status.HandOverUntil is { } until ? StatusHeartbeat.Format(until) : null,
            StandingIn = status.StandingIn.Count > 0 ? [.. status.StandingIn.Order(StringComparer.Ordinal)] : null,
            SigningKey = status.SigningKey,
            Churn = status.Churn is { } churn ? new ChurnStatusResource
            {
                Since = StatusHeartbeat.Format(churn.Since),
                Periods = churn.Periods,
                Drawn = churn.Drawn,
                Destroyed = churn.Destroyed,
                Spared = churn.Spared,
                PeriodSeconds = churn.PeriodSeconds,
                Created = churn.Created.Count > 0 ? new Dictionary<string, int>(churn.Created, StringComparer.Ordinal) : null,
                Removed = churn.Removed.Count > 0 ? new Dictionary<string, int>(churn.Removed, StringComparer.Ordinal) : null,
            } : null,
        };
    }

    /// <summary>The part of <paramref name="status"/> that <see cref="ToStatus"/> writes (to compare with what would be written).</summary>
    public static MeshNodeStatus Owned(MeshNodeStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return new MeshNodeStatus
        {
            ObservedGeneration = status.ObservedGeneration,
            PublicKey = status.PublicKey,
            OpenVpnFingerprint = status.OpenVpnFingerprint,
            Technologies = status.Technologies,
            Endpoints = status.Endpoints,
            Arrows = status.Arrows,
            ArrowCount = status.ArrowCount,
            Routes = status.Routes,
            HandOverUntil = status.HandOverUntil,
            StandingIn = status.StandingIn,
            ClockOffsetSeconds = status.ClockOffsetSeconds,
            SigningKey = status.SigningKey,
            Churn = status.Churn,
        };
    }

    /// <summary>
    /// What <paramref name="node"/>'s agent publishes; null until it has published its key and an
    /// underlay address (no arrow can be opened towards it before). Arrows this mapping cannot read
    /// (no port, a technology it does not know) are left out rather than guessed.
    /// </summary>
    public static PeerStatus? ToPeerStatus(string node, MeshNodeStatus? status)
    {
        if (status?.PublicKey is not { Length: > 0 } key || Underlay(status.Endpoints) is not { } underlay)
        {
            return null;
        }

        var arrows = status.Arrows ?? [];
        var initiated = arrows
            .Where(a => a.Initiated && a.Port is not null && a.Id is { Length: > 0 })
            .Select(a => (Arrow: a, Known: TunnelTechnologyNames.TryParse(a.Technology, out var technology), Technology: technology))
            .Where(a => a.Known)
            .Select(a => new PublishedArrow(a.Arrow.Id!, a.Arrow.Peer, a.Arrow.SubMesh, a.Technology, a.Arrow.Port!.Value, a.Arrow.State == Draining)
            {
                Since = StatusHeartbeat.Parse(a.Arrow.Since),
                Reason = a.Arrow.Reason,
            })
            .ToList();
        return new PeerStatus(node, underlay, key, initiated)
        {
            Accepted = [.. arrows.Where(a => !a.Initiated).Select(a => new AcceptedArrow(a.Peer, a.SubMesh, a.Routes ?? 0))],
            OpenVpnFingerprint = status.OpenVpnFingerprint,
            Technologies = status.Technologies?.ToCore(),
            Routes = status.Routes,
            HandOverUntil = StatusHeartbeat.Parse(status.HandOverUntil),
            StandingIn = status.StandingIn ?? [],
        };
    }

    /// <summary>The first endpoint that reads as an address ("2001:db8::1", or "address:port" as older statuses wrote).</summary>
    private static IPAddress? Underlay(IEnumerable<string>? endpoints)
    {
        foreach (var endpoint in endpoints ?? [])
        {
            if (IPAddress.TryParse(endpoint, out var address))
            {
                return address;
            }

            if (IPEndPoint.TryParse(endpoint, out var withPort))
            {
                return withPort.Address;
            }
        }

        return null;
    }
}
