using Re6st.Core.Addressing;
using Re6st.Core.Validation;

namespace Re6st.Core.Planning;

/// <summary>Checks a declared mesh layout; every problem is reported with its field path and the reason.</summary>
public static class MeshValidator
{
    public const int MaxOrder = 3;
    public const int MaxFanOut = 65_536;

    public static Validated<MeshLayout> Validate(MeshSpec spec, string path = "spec")
    {
        ArgumentNullException.ThrowIfNull(spec);
        var issues = new IssueCollector();
        var layoutOk = true;

        IpPrefix v6 = default;
        if (spec.Ipv6Range is null)
        {
            issues.Error($"{path}.ipv6Range", "is required (e.g. fd5e:6e7::/48)");
            layoutOk = false;
        }
        else if (!IpPrefix.TryParse(spec.Ipv6Range, out v6, out var error))
        {
            issues.Error($"{path}.ipv6Range", error);
            layoutOk = false;
        }
        else if (v6.Family != IpFamily.V6)
        {
            issues.Error($"{path}.ipv6Range", $"'{spec.Ipv6Range}' is an IPv4 range; IPv4 goes in ipv4Range");
            layoutOk = false;
        }

        var v6Len = spec.Ipv6NodePrefixLength ?? 64;
        if (v6Len is < 1 or > 128)
        {
            issues.Error($"{path}.ipv6NodePrefixLength", $"must be between 1 and 128 (got {v6Len})");
            layoutOk = false;
        }

        IpPrefix? v4 = null;
        var v4Len = spec.Ipv4NodePrefixLength ?? 32;
        if (spec.Ipv4Range is not null)
        {
            if (!IpPrefix.TryParse(spec.Ipv4Range, out var parsed, out var error))
            {
                issues.Error($"{path}.ipv4Range", error);
                layoutOk = false;
            }
            else if (parsed.Family != IpFamily.V4)
            {
                issues.Error($"{path}.ipv4Range", $"'{spec.Ipv4Range}' is an IPv6 range; IPv6 goes in ipv6Range");
                layoutOk = false;
            }
            else
            {
                v4 = parsed;
            }
        }

        if (v4Len is < 1 or > 32)
        {
            issues.Error($"{path}.ipv4NodePrefixLength", $"must be between 1 and 32 (got {v4Len})");
            layoutOk = false;
        }

        var order = spec.Order ?? 1;
        if (order is < 1 or > MaxOrder)
        {
            issues.Error($"{path}.order", $"must be 1, 2 or 3 (got {order})");
            layoutOk = false;
        }

        IReadOnlyList<int> fanOut = [];
        if (spec.SubMeshes is { } declared)
        {
            fanOut = declared;
            if (order is >= 1 and <= MaxOrder && declared.Count != order - 1)
            {
                issues.Error($"{path}.subMeshes", $"order {order} needs {order - 1} level(s) of sub-meshes, {declared.Count} given");
                layoutOk = false;
            }

            for (var i = 0; i < declared.Count; i++)
            {
                if (declared[i] is < 2 or > MaxFanOut)
                {
                    issues.Error($"{path}.subMeshes[{i}]", $"must be between 2 and {MaxFanOut} (got {declared[i]})");
                    layoutOk = false;
                }
            }
        }
        else if (order is > 1 and <= MaxOrder)
        {
            // Only for an order in range: an order out of range is already an error, and laying out
            // int.MaxValue levels ran out of memory (found by the spec fuzz pass).
            if (spec.ExpectedNodes is { } expected and > 0)
            {
                fanOut = MeshLayout.SuggestSubMeshes(expected, order);
            }
            else
            {
                issues.Error($"{path}.subMeshes", $"order {order} needs either subMeshes or expectedNodes to lay out its address range");
                layoutOk = false;
            }
        }

        if (spec.ExpectedNodes is < 1)
        {
            issues.Error($"{path}.expectedNodes", $"must be at least 1 (got {spec.ExpectedNodes})");
        }

        var bridgeShare = issues.Share($"{path}.bridgeShare", spec.BridgeShare, 0.1);
        if (order > 1 && bridgeShare == 0)
        {
            issues.Error($"{path}.bridgeShare", "must be above 0 for order 2 or 3: without bridges the sub-meshes cannot reach each other");
        }

        var renew = issues.Share($"{path}.bridgeRenewShare", spec.BridgeRenewShare, 0.3);
        if (order > 1 && renew == 0)
        {
            issues.Warn($"{path}.bridgeRenewShare", Principle.LifeRequiresDestruction, "0 means bridges are never re-elected");
        }

        var minBridges = issues.Range($"{path}.minBridges", spec.MinBridges, 2, 1, 1000);
        var pods = PodNetworkLayout.Validate(spec.PodNetwork, v6Len, v4 is not null, v4Len, path, issues);

        var layout = new MeshLayout
        {
            Ipv6Range = v6,
            Ipv6NodePrefixLength = v6Len,
            Ipv4Range = v4,
            Ipv4NodePrefixLength = v4Len,
            Order = order,
            SubMeshes = [.. fanOut],
            BridgeShare = bridgeShare,
            BridgeRenewShare = renew,
            MinBridges = minBridges,
            Pods = pods,
        };

        if (layoutOk)
        {
            CheckRoom(layout, spec.ExpectedNodes, path, issues);
        }

        return issues.Result(layout);
    }

    /// <summary>The range must hold the sub-mesh numbering plus at least one node prefix per leaf.</summary>
    private static void CheckRoom(MeshLayout layout, int? expectedNodes, string path, IssueCollector issues)
    {
        var bits = layout.SubMeshBits;
        var shape = layout.Order == 1 ? "one mesh" : $"{string.Join("×", layout.SubMeshes)} sub-meshes";
        CheckFamily(IpFamily.V6, layout.Ipv6Range, layout.Ipv6NodePrefixLength, $"{path}.ipv6NodePrefixLength");
        if (layout.Ipv4Range is { } v4)
        {
            CheckFamily(IpFamily.V4, v4, layout.Ipv4NodePrefixLength, $"{path}.ipv4NodePrefixLength");
        }

        if (expectedNodes is { } n and > 0 && issues.Errors.Count == 0)
        {
            var capacity = (UInt128)layout.SlotsPerLeaf * (UInt128)layout.LeafCount;
            if (capacity < (UInt128)n)
            {
                issues.Error($"{path}.expectedNodes", $"{n} nodes do not fit: {shape} of {layout.SlotsPerLeaf} node prefixes each hold {capacity}");
            }
        }

        void CheckFamily(IpFamily family, IpPrefix range, int nodeLength, string field)
        {
            var leafLength = range.Length + bits;
            if (nodeLength <= range.Length)
            {
                issues.Error(field, $"/{nodeLength} is not longer than the range {range}: node prefixes must be inside it");
            }
            else if (leafLength > nodeLength)
            {
                issues.Error(field, $"/{nodeLength} leaves no room: {range} split into {shape} needs {bits} bits, so each sub-mesh is a /{leafLength}, longer than a node prefix");
            }
        }
    }
}
