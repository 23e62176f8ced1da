using Xunit;

namespace Re6st.Testing;

/// <summary>
/// The corpus of bad input, shared by the tests that send it to a real API server and operator
/// and by those of <c>re6st lint</c>, which must report the same fields.
/// </summary>
public static class BadInputCorpus
{
    /// <summary>What the CRD schema expresses: refused by the API server (422), naming the field.</summary>
    public static IReadOnlyList<(string Case, string Plural, string Spec, string Field)> RejectedByTheApiServer { get; } =
    [
        // case, plural, spec (JSON), field named in the 422
        ("mesh: ipv6Range not a CIDR", "meshes", """{"ipv6Range":"not-a-cidr"}""", "spec.ipv6Range"),
        ("mesh: ipv6Range missing", "meshes", """{"order":1}""", "spec.ipv6Range"),
        ("mesh: node prefix longer than 128", "meshes", """{"ipv6Range":"fd5e:f1::/48","ipv6NodePrefixLength":129}""", "spec.ipv6NodePrefixLength"),
        ("mesh: IPv4 node prefix longer than 32", "meshes", """{"ipv6Range":"fd5e:f1::/48","ipv4Range":"10.9.0.0/16","ipv4NodePrefixLength":33}""", "spec.ipv4NodePrefixLength"),
        ("mesh: IPv4 range not a dotted quad", "meshes", """{"ipv6Range":"fd5e:f1::/48","ipv4Range":"10.9/16"}""", "spec.ipv4Range"),
        ("mesh: negative bridge share", "meshes", """{"ipv6Range":"fd5e:f1::/48","bridgeShare":-0.1}""", "spec.bridgeShare"),
        ("mesh: bridge share above 1", "meshes", """{"ipv6Range":"fd5e:f1::/48","bridgeShare":1.5}""", "spec.bridgeShare"),
        ("mesh: order 4", "meshes", """{"ipv6Range":"fd5e:f1::/48","order":4}""", "spec.order"),
        ("mesh: three levels of sub-meshes", "meshes", """{"ipv6Range":"fd5e:f1::/48","order":3,"subMeshes":[2,2,2]}""", "spec.subMeshes"),
        ("mesh: unknown technology", "meshes", """{"ipv6Range":"fd5e:f1::/48","technologies":["wireguard","carrier-pigeon"]}""", "spec.technologies"),
        ("mesh: period not a duration", "meshes", """{"ipv6Range":"fd5e:f1::/48","bridgeReelectionPeriod":"an hour"}""", "spec.bridgeReelectionPeriod"),
        ("mesh: selector operator unknown", "meshes", """{"ipv6Range":"fd5e:f1::/48","nodeSelector":{"matchExpressions":[{"key":"a","operator":"Maybe"}]}}""", "spec.nodeSelector.matchExpressions"),
        ("policy: negative destroy share", "randomizationpolicies", """{"destroyShare":-0.1}""", "spec.destroyShare"),
        ("policy: destroy share above 1", "randomizationpolicies", """{"destroyShare":1.5}""", "spec.destroyShare"),
        ("policy: most-used factor above 1", "randomizationpolicies", """{"mostUsedFactor":2}""", "spec.mostUsedFactor"),
        ("policy: refresh period not a duration", "randomizationpolicies", """{"refreshPeriod":"5 minutes"}""", "spec.refreshPeriod"),
        ("policy: max drain neither a duration nor never", "randomizationpolicies", """{"maxDrain":"forever"}""", "spec.maxDrain"),
        ("policy: zero arrows", "randomizationpolicies", """{"arrowsPerNode":0}""", "spec.arrowsPerNode"),
        ("policy: unknown technology in a rule", "randomizationpolicies", """{"technologyRules":[{"technology":"carrier-pigeon","denyWhen":{"matchLabels":{"a":"b"}}}]}""", "spec.technologyRules"),
        ("policy: rule without selector", "randomizationpolicies", """{"technologyRules":[{"technology":"openvpn"}]}""", "spec.technologyRules"),
    ];

    /// <summary>What the schema cannot express: the operator reports the Mesh Degraded, naming the field and the reason.</summary>
    public static IReadOnlyList<(string Case, string Spec, string Field, string Reason)> DegradedByTheOperator { get; } =
    [
        // case, mesh spec (JSON; RANGE is replaced by a fresh /48), field, reason
        ("host bits set", """{"ipv6Range":"fd5e:f2::1/48"}""", "spec.ipv6Range", "host bits set; did you mean fd5e:f2::/48?"),
        ("IPv4 range in ipv6Range", """{"ipv6Range":"10.0.0.0/8"}""", "spec.ipv6Range", "is an IPv4 range"),
        ("IPv4 address with a leading zero", """{"ipv6Range":"RANGE","ipv4Range":"010.0.0.0/8"}""", "spec.ipv4Range", "valid IPv4 address"),
        ("node prefix not longer than the range", """{"ipv6Range":"RANGE","ipv6NodePrefixLength":40}""", "spec.ipv6NodePrefixLength", "is not longer than the range"),
        ("no room for the sub-meshes", """{"ipv6Range":"fd5e:f3:0:10::/60","order":2,"subMeshes":[64]}""", "spec.ipv6NodePrefixLength", "leaves no room"),
        ("order 2 without a layout", """{"ipv6Range":"RANGE","order":2}""", "spec.subMeshes", "needs either subMeshes or expectedNodes"),
        ("sub-mesh levels do not match the order", """{"ipv6Range":"RANGE","order":3,"subMeshes":[4]}""", "spec.subMeshes", "order 3 needs 2 level(s) of sub-meshes, 1 given"),
        ("no bridges at order 2", """{"ipv6Range":"RANGE","order":2,"subMeshes":[4],"bridgeShare":0}""", "spec.bridgeShare", "without bridges the sub-meshes cannot reach each other"),
        ("more nodes expected than the range holds", """{"ipv6Range":"fd5e:f4::/56","expectedNodes":1000}""", "spec.expectedNodes", "1000 nodes do not fit"),
        ("zero hello interval", """{"ipv6Range":"RANGE","babel":{"helloInterval":"0s"}}""", "spec.babel.helloInterval", "must be positive"),
        ("invalid node selector key", """{"ipv6Range":"RANGE","nodeSelector":{"matchLabels":{"bad key!":"x"}}}""", "spec.nodeSelector.matchLabels", "is not a valid label key"),
        ("pods without IPv4 room in a node prefix", """{"ipv6Range":"RANGE","ipv4Range":"10.203.0.0/16","podNetwork":{"enabled":true}}""", "spec.ipv4NodePrefixLength", "a node's IPv4 prefix is a /32, which leaves no room for a pod range"),
        ("pod range wider than a node prefix", """{"ipv6Range":"RANGE","podNetwork":{"enabled":true,"ipv6PrefixLength":60}}""", "spec.podNetwork.ipv6PrefixLength", "/60 must be longer than a node's /64"),
        ("IPv4 pod range without an IPv4 range", """{"ipv6Range":"RANGE","podNetwork":{"enabled":true,"ipv4PrefixLength":25}}""", "spec.podNetwork.ipv4PrefixLength", "the mesh has no ipv4Range"),
        ("policy that does not exist", """{"ipv6Range":"RANGE","policyRef":"no-such-policy"}""", "spec.policyRef", "RandomizationPolicy 'no-such-policy' does not exist"),
    ];

    public static TheoryData<string, string, string, string> Theory(IEnumerable<(string, string, string, string)> rows)
    {
        var data = new TheoryData<string, string, string, string>();
        foreach (var (a, b, c, d) in rows ?? [])
        {
            data.Add(a, b, c, d);
        }

        return data;
    }
}
