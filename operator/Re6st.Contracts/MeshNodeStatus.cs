using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.Json.Serialization;

namespace Re6st.Contracts;

public sealed class MeshNodeStatus
{
    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }

    [JsonPropertyName("conditions")]
    public List<Condition>? Conditions { get; set; }

    [RegularExpression(PeerPatterns.WireGuardKey)]
    [Description("The host's WireGuard public key (base64).")]
    [JsonPropertyName("publicKey")]
    public string? PublicKey { get; set; }

    [RegularExpression(PeerPatterns.Fingerprint)]
    [Description("The host's OpenVPN certificate fingerprint (SHA-256), pinned by peers; absent when it runs no OpenVPN.")]
    [JsonPropertyName("openVpnFingerprint")]
    public string? OpenVpnFingerprint { get; set; }

    [Description("Tunnel technologies the host's agent found it can run.")]
    [JsonPropertyName("technologies")]
    public List<TechnologyName>? Technologies { get; set; }

    [Bound(16)]
    [Description("Underlay addresses other hosts reach this one at; the port of each arrow this host opened is in arrows[].port.")]
    [JsonPropertyName("endpoints")]
    public List<string>? Endpoints { get; set; }

    [Bound(1024)]
    [JsonPropertyName("arrows")]
    public List<ArrowStatusResource>? Arrows { get; set; }

    [JsonPropertyName("arrowCount")]
    public int? ArrowCount { get; set; }

    [Description("Installed routes (the routing-table size).")]
    [JsonPropertyName("routes")]
    public int? Routes { get; set; }

    [Description("Set while the host's agent hands the host over to its next run (RFC 3339): its tunnels and routes stay, its babeld is silent, and its peers keep their arrows to it and announce its prefixes until then (at most 2 minutes ahead).")]
    [JsonPropertyName("handOverUntil")]
    public string? HandOverUntil { get; set; }

    [Bound(1024)]
    [Description("Hosts whose prefixes this host announces while they hand over.")]
    [JsonPropertyName("standingIn")]
    public List<string>? StandingIn { get; set; }

    [Description("When the host's agent last wrote this status (RFC 3339, the agent's clock). It writes at least every 30 s while it runs: an older one means the agent is stopped, hung or cut off from the API server.")]
    [JsonPropertyName("heartbeat")]
    public string? Heartbeat { get; set; }

    [Description("How far the host's clock is from the API server's, in whole seconds (positive: the host's clock is behind), read by its agent from the Date header of the server's answers.")]
    [JsonPropertyName("clockOffsetSeconds")]
    public int? ClockOffsetSeconds { get; set; }

    [RegularExpression(PeerPatterns.KeyId)]
    [Description("The id of the Babel key this host's babeld signs with (an entry of the mesh's key Secret; the id only, never the key).")]
    [JsonPropertyName("signingKey")]
    public string? SigningKey { get; set; }

    [Description("What the destruction policy and the selection did at this host since its agent started: the figures re6st check audits the principles with.")]
    [JsonPropertyName("churn")]
    public ChurnStatusResource? Churn { get; set; }
}

/// <summary>
/// The principles at work on one host, counted by its agent since it started: every period each
/// arrow it opened faces the destruction draw, and every arrow it opens has a selection step.
/// </summary>
public sealed class ChurnStatusResource
{
    [Description("When the agent started counting (RFC 3339, the agent's clock).")]
    [JsonPropertyName("since")]
    public string? Since { get; set; }

    [Description("Refresh periods that ended since then.")]
    [JsonPropertyName("periods")]
    public int Periods { get; set; }

    [Description("Active arrows this host had opened when those periods ended, summed over the periods: each faced the destruction draw once.")]
    [JsonPropertyName("drawn")]
    public int Drawn { get; set; }

    [Description("Of those, the arrows the draw destroyed (drained first when in use).")]
    [JsonPropertyName("destroyed")]
    public int Destroyed { get; set; }

    [Description("Of those, the arrows the draw picked that the most-used exception kept.")]
    [JsonPropertyName("spared")]
    public int Spared { get; set; }

    [Description("The measured time between the ends of two periods, in seconds (their mean).")]
    [JsonPropertyName("periodSeconds")]
    public double? PeriodSeconds { get; set; }

    [Description("Arrows this host opened since then, by the selection step that chose the peer: random (the principle), bootstrap, preferred, small-mesh (exceptions).")]
    [JsonPropertyName("created")]
    public Dictionary<string, int>? Created { get; set; }

    [Description("Arrows of this host removed since then, by reason: random, drained, forced-after-max-drain (the policy), dead, unauthenticated, closed-by-peer, peer-left, replanned, cut, agent-restart, technology.")]
    [JsonPropertyName("removed")]
    public Dictionary<string, int>? Removed { get; set; }
}

/// <summary>How often an agent renews <see cref="MeshNodeStatus.Heartbeat"/>, and when a reader deems it stale.</summary>
public static class StatusHeartbeat
{
    /// <summary>The longest an agent goes without writing its status while it runs.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    /// <summary>Three missed renewals: the agent is stopped, hung or cut off from the API server.</summary>
    public static readonly TimeSpan StaleAfter = 3 * Interval;

    /// <summary>Whether a heartbeat <paramref name="age"/> old is past <see cref="StaleAfter"/>.</summary>
    public static bool IsStale(TimeSpan age) => age > StaleAfter;

    /// <summary>The format of <see cref="MeshNodeStatus.Heartbeat"/> (and of hand-over deadlines): RFC 3339 with milliseconds, UTC.</summary>
    public static string Format(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    /// <summary>The time <paramref name="text"/> says, or null when it says none.</summary>
    public static DateTimeOffset? Parse(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;
}

/// <summary>
/// One arrow at this host. Its initiator lists it with the port its end listens on (the far end
/// connects there and accepts it only while it is listed); the far end lists it as accepted, with
/// the routes it carries there (an arrow is in use while either end routes over it).
/// </summary>
public sealed class ArrowStatusResource
{
    [RegularExpression(PeerPatterns.ArrowId)]
    [Description("The arrow's id, given by the host that opened it; both ends know the arrow by it.")]
    [JsonPropertyName("id")]
    public string? Id { get; set; }

    [Bound(253)]
    [RegularExpression(PeerPatterns.Name)]
    [JsonPropertyName("peer")]
    public string Peer { get; set; } = "";

    [Bound(253)]
    [RegularExpression(PeerPatterns.Name)]
    [JsonPropertyName("subMesh")]
    public string SubMesh { get; set; } = "";

    [Description("True when this host opened the arrow, false when it accepted it from the peer.")]
    [JsonPropertyName("initiated")]
    public bool Initiated { get; set; }

    [Range(1, 65535)]
    [Description("Underlay UDP port this host's end listens on (arrows it opened).")]
    [JsonPropertyName("port")]
    public int? Port { get; set; }

    [AllowedValues("active", "draining")]
    [Description("Draining: routes are moving away before the arrow is destroyed (set by the initiator).")]
    [JsonPropertyName("state")]
    public string? State { get; set; }

    [AllowedValues("wireguard", "openvpn")]
    [JsonPropertyName("technology")]
    public string? Technology { get; set; }

    [JsonPropertyName("cost")]
    public int? Cost { get; set; }

    [Description("Round-trip time measured inside the tunnel, in milliseconds.")]
    [JsonPropertyName("rttMs")]
    public double? RttMs { get; set; }

    [Description("Installed routes whose next hop is over this arrow.")]
    [JsonPropertyName("routes")]
    public int? Routes { get; set; }

    [Description("When this host opened the arrow (RFC 3339, the agent's clock; arrows it opened).")]
    [JsonPropertyName("since")]
    public string? Since { get; set; }

    [AllowedValues("random", "bootstrap", "preferred", "small-mesh")]
    [Description("The selection step that chose the peer: random (the principle), or an exception (bootstrap, preferred, small-mesh); absent on an arrow taken over from the agent's previous run.")]
    [JsonPropertyName("reason")]
    public string? Reason { get; set; }
}

/// <summary>
/// The forms a host's published values may take, in the CRD's schema: the API server refuses a
/// status write that breaks one (422, naming the field), before any peer reads it. Peers check the
/// same again (the agent's PeerInput), since a schema can be changed or skipped.
/// </summary>
public static class PeerPatterns
{
    /// <summary>A WireGuard key: 32 bytes in base64.</summary>
    public const string WireGuardKey = "^[A-Za-z0-9+/]{43}=$";

    /// <summary>A SHA-256 certificate fingerprint in colon-hex.</summary>
    public const string Fingerprint = "^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$";

    /// <summary>A Kubernetes object name (RFC 1123 subdomain): a host's or a sub-mesh's.</summary>
    public const string Name = "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$";

    /// <summary>An arrow id: a short lower-case token.</summary>
    public const string ArrowId = "^[a-z0-9][-a-z0-9]{0,63}$";

    /// <summary>A Babel key id, as the key Secret names its entries.</summary>
    public const string KeyId = "^[A-Za-z0-9_-]{1,32}$";
}
