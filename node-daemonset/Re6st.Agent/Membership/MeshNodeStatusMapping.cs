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
    /// (no port, a technology it does not know) are left out rather than guessed, and so is every
    /// value <see cref="PeerInput"/> refuses: each refusal is added to <paramref name="rejected"/>.
    /// </summary>
    public static PeerStatus? ToPeerStatus(string node, MeshNodeStatus? status, ICollection<string>? rejected = null)
    {
        void Reject(string why) => rejected?.Add(why);
        if (status?.PublicKey is not { Length: > 0 } key)
        {
            return null;
        }

        if (!PeerInput.IsWireGuardKey(key))
        {
            Reject($"publicKey {PeerInput.Quote(key)} is not a WireGuard key (32 bytes in base64): the peer is left out");
            return null;
        }

        if (Underlay(status.Endpoints, Reject) is not { } underlay)
        {
            return null;
        }

        var arrows = status.Arrows ?? [];
        if (arrows.Count > PeerInput.MaxArrows)
        {
            Reject($"{arrows.Count} arrows: only the first {PeerInput.MaxArrows} are read");
            arrows = arrows[..PeerInput.MaxArrows];
        }

        var initiated = new List<PublishedArrow>();
        var accepted = new List<AcceptedArrow>();
        foreach (var a in arrows)
        {
            if (!PeerInput.IsName(a.Peer) || !PeerInput.IsName(a.SubMesh))
            {
                Reject($"an arrow to {PeerInput.Quote(a.Peer)} in sub-mesh {PeerInput.Quote(a.SubMesh)}: not a host's and a sub-mesh's name");
                continue;
            }

            if (!a.Initiated)
            {
                accepted.Add(new AcceptedArrow(a.Peer, a.SubMesh, a.Routes is >= 0 and var routes ? routes : 0));
                continue;
            }

            if (a.Port is null || a.Id is not { Length: > 0 } || !TunnelTechnologyNames.TryParse(a.Technology, out var technology))
            {
                continue;
            }

            if (!PeerInput.IsArrowId(a.Id) || a.Port is not (> 0 and <= 65535))
            {
                Reject($"arrow {PeerInput.Quote(a.Id)} to {a.Peer}: {(PeerInput.IsArrowId(a.Id) ? $"port {a.Port} is outside 1-65535" : "not an arrow id")}");
                continue;
            }

            initiated.Add(new PublishedArrow(a.Id, a.Peer, a.SubMesh, technology, a.Port.Value, a.State == Draining)
            {
                Since = StatusHeartbeat.Parse(a.Since),
                Reason = a.Reason is { } reason && PeerInput.IsArrowId(reason) ? reason : null,
            });
        }

        var fingerprint = PeerInput.Fingerprint(status.OpenVpnFingerprint);
        if (status.OpenVpnFingerprint is { } published && fingerprint is null)
        {
            Reject($"openVpnFingerprint {PeerInput.Quote(published)} is not a SHA-256 fingerprint: no OpenVPN arrow to it");
        }

        var standingIn = status.StandingIn ?? [];
        if (standingIn.Count > PeerInput.MaxStandingIn || standingIn.Any(h => !PeerInput.IsName(h)))
        {
            Reject($"standingIn: {standingIn.Count(h => !PeerInput.IsName(h))} name(s) that are no host's, {standingIn.Count} in all: left out");
            standingIn = [.. standingIn.Where(PeerInput.IsName).Take(PeerInput.MaxStandingIn)];
        }

        return new PeerStatus(node, underlay, key, initiated)
        {
            Accepted = accepted,
            OpenVpnFingerprint = fingerprint,
            Technologies = status.Technologies?.ToCore(),
            Routes = status.Routes is >= 0 ? status.Routes : null,
            HandOverUntil = StatusHeartbeat.Parse(status.HandOverUntil),
            StandingIn = standingIn,
        };
    }

    /// <summary>
    /// The first endpoint that reads as an address a tunnel may dial ("2001:db8::1", or
    /// "address:port" as older statuses wrote), among the first <see cref="PeerInput.MaxEndpoints"/>.
    /// </summary>
    private static IPAddress? Underlay(IEnumerable<string>? endpoints, Action<string> reject)
    {
        foreach (var endpoint in (endpoints ?? []).Take(PeerInput.MaxEndpoints))
        {
            var address = IPAddress.TryParse(endpoint, out var plain) ? plain
                : IPEndPoint.TryParse(endpoint, out var withPort) ? withPort.Address
                : null;
            if (address is not null && PeerInput.IsUnderlay(address))
            {
                return address;
            }

            reject($"endpoint {PeerInput.Quote(endpoint)}: {(address is null ? "not an address" : "not an address a tunnel may dial")}");
        }

        return null;
    }
}
