using Re6st.Core.Addressing;
using Re6st.Core.Planning;
using Re6st.Core.Validation;

namespace Re6st.Core.Tests;

public sealed class MeshValidatorTests
{
    private const string V6 = "fd5e:6e7::/48";

    public static TheoryData<string, MeshSpec, string, string> InvalidFields => new()
    {
        { "IPv6 range missing", new() { }, "spec.ipv6Range", "is required" },
        { "IPv6 range malformed", new() { Ipv6Range = "fd5e:6e7::" }, "spec.ipv6Range", "has no prefix length" },
        { "IPv6 range not an address", new() { Ipv6Range = "mesh/48" }, "spec.ipv6Range", "does not start with a valid IP address" },
        { "IPv6 range with host bits", new() { Ipv6Range = "fd5e:6e7::1/48" }, "spec.ipv6Range", "has host bits set; did you mean fd5e:6e7::/48?" },
        { "IPv6 range of the wrong family", new() { Ipv6Range = "10.42.0.0/16" }, "spec.ipv6Range", "'10.42.0.0/16' is an IPv4 range; IPv4 goes in ipv4Range" },
        { "IPv6 node prefix length zero", new() { Ipv6Range = V6, Ipv6NodePrefixLength = 0 }, "spec.ipv6NodePrefixLength", "must be between 1 and 128 (got 0)" },
        { "IPv6 node prefix length too long", new() { Ipv6Range = V6, Ipv6NodePrefixLength = 129 }, "spec.ipv6NodePrefixLength", "must be between 1 and 128 (got 129)" },
        { "IPv6 node prefix as long as the range", new() { Ipv6Range = V6, Ipv6NodePrefixLength = 48 }, "spec.ipv6NodePrefixLength", "/48 is not longer than the range fd5e:6e7::/48" },
        { "IPv6 node prefix shorter than the range", new() { Ipv6Range = V6, Ipv6NodePrefixLength = 40 }, "spec.ipv6NodePrefixLength", "/40 is not longer than the range" },
        { "IPv6 sub-mesh bits beyond the node prefix", new() { Ipv6Range = V6, Ipv6NodePrefixLength = 56, Order = 2, SubMeshes = [512] }, "spec.ipv6NodePrefixLength", "/56 leaves no room: fd5e:6e7::/48 split into 512 sub-meshes needs 9 bits, so each sub-mesh is a /57" },
        { "IPv4 range malformed", new() { Ipv6Range = V6, Ipv4Range = "10.42.0.0" }, "spec.ipv4Range", "has no prefix length" },
        { "IPv4 range with host bits", new() { Ipv6Range = V6, Ipv4Range = "10.42.1.0/16" }, "spec.ipv4Range", "did you mean 10.42.0.0/16?" },
        { "IPv4 range of the wrong family", new() { Ipv6Range = V6, Ipv4Range = "fd00::/8" }, "spec.ipv4Range", "'fd00::/8' is an IPv6 range; IPv6 goes in ipv6Range" },
        { "IPv4 node prefix length zero", new() { Ipv6Range = V6, Ipv4NodePrefixLength = 0 }, "spec.ipv4NodePrefixLength", "must be between 1 and 32 (got 0)" },
        { "IPv4 node prefix length too long", new() { Ipv6Range = V6, Ipv4NodePrefixLength = 33 }, "spec.ipv4NodePrefixLength", "must be between 1 and 32 (got 33)" },
        { "IPv4 node prefix as long as the range", new() { Ipv6Range = V6, Ipv4Range = "10.42.0.0/16", Ipv4NodePrefixLength = 16 }, "spec.ipv4NodePrefixLength", "/16 is not longer than the range 10.42.0.0/16" },
        { "IPv4 sub-mesh bits beyond the node prefix", new() { Ipv6Range = V6, Ipv4Range = "10.42.0.0/16", Ipv4NodePrefixLength = 24, Order = 3, SubMeshes = [16, 32] }, "spec.ipv4NodePrefixLength", "split into 16×32 sub-meshes needs 9 bits, so each sub-mesh is a /25" },
        { "order zero", new() { Ipv6Range = V6, Order = 0 }, "spec.order", "must be 1, 2 or 3 (got 0)" },
        { "order four", new() { Ipv6Range = V6, Order = 4, SubMeshes = [2, 2, 2] }, "spec.order", "must be 1, 2 or 3 (got 4)" },
        { "too few sub-mesh levels", new() { Ipv6Range = V6, Order = 3, SubMeshes = [4] }, "spec.subMeshes", "order 3 needs 2 level(s) of sub-meshes, 1 given" },
        { "too many sub-mesh levels", new() { Ipv6Range = V6, Order = 2, SubMeshes = [4, 4] }, "spec.subMeshes", "order 2 needs 1 level(s) of sub-meshes, 2 given" },
        { "sub-meshes at order one", new() { Ipv6Range = V6, SubMeshes = [4] }, "spec.subMeshes", "order 1 needs 0 level(s) of sub-meshes, 1 given" },
        { "fan-out of one", new() { Ipv6Range = V6, Order = 2, SubMeshes = [1] }, "spec.subMeshes[0]", "must be between 2 and 65536 (got 1)" },
        { "fan-out too large", new() { Ipv6Range = V6, Order = 3, SubMeshes = [4, 65_537] }, "spec.subMeshes[1]", "must be between 2 and 65536 (got 65537)" },
        { "order two without a layout", new() { Ipv6Range = V6, Order = 2 }, "spec.subMeshes", "order 2 needs either subMeshes or expectedNodes" },
        { "order three without a layout", new() { Ipv6Range = V6, Order = 3 }, "spec.subMeshes", "order 3 needs either subMeshes or expectedNodes" },
        { "expected nodes zero", new() { Ipv6Range = V6, ExpectedNodes = 0 }, "spec.expectedNodes", "must be at least 1 (got 0)" },
        { "expected nodes beyond one mesh", new() { Ipv6Range = V6, Ipv4Range = "10.42.0.0/24", ExpectedNodes = 300 }, "spec.expectedNodes", "300 nodes do not fit: one mesh of 256 node prefixes each hold 256" },
        { "expected nodes beyond the sub-meshes", new() { Ipv6Range = V6, Ipv4Range = "10.42.0.0/24", Order = 2, SubMeshes = [4], ExpectedNodes = 257 }, "spec.expectedNodes", "257 nodes do not fit: 4 sub-meshes of 64 node prefixes each hold 256" },
        { "expected nodes beyond the suggested layout", new() { Ipv6Range = V6, Ipv4Range = "10.42.0.0/24", Order = 2, ExpectedNodes = 300 }, "spec.expectedNodes", "300 nodes do not fit: 18 sub-meshes of 8 node prefixes each hold 144" },
        { "expected nodes beyond an IPv6 range", new() { Ipv6Range = "fd00::/112", Ipv6NodePrefixLength = 120, Order = 3, SubMeshes = [4, 4], ExpectedNodes = 4_097 }, "spec.expectedNodes", "4097 nodes do not fit: 4×4 sub-meshes of 16 node prefixes each hold 256" },
        { "bridge share zero at order two", new() { Ipv6Range = V6, Order = 2, SubMeshes = [4], BridgeShare = 0 }, "spec.bridgeShare", "must be above 0 for order 2 or 3" },
        { "bridge share zero at order three", new() { Ipv6Range = V6, Order = 3, SubMeshes = [4, 4], BridgeShare = 0 }, "spec.bridgeShare", "must be above 0 for order 2 or 3" },
        { "bridge share above one", new() { Ipv6Range = V6, BridgeShare = 1.5 }, "spec.bridgeShare", "must be a share between 0 and 1 (got 1.5)" },
        { "bridge renew share negative", new() { Ipv6Range = V6, BridgeRenewShare = -0.3 }, "spec.bridgeRenewShare", "must be a share between 0 and 1 (got -0.3)" },
        { "min bridges zero", new() { Ipv6Range = V6, MinBridges = 0 }, "spec.minBridges", "must be between 1 and 1000 (got 0)" },
        { "pods with /32 IPv4 node prefixes", new() { Ipv6Range = V6, Ipv4Range = "10.42.0.0/16", PodNetwork = new() { Enabled = true } }, "spec.ipv4NodePrefixLength", "a node's IPv4 prefix is a /32, which leaves no room for a pod range: set /24 or shorter" },
        { "IPv6 pod range wider than a node prefix", new() { Ipv6Range = V6, PodNetwork = new() { Enabled = true, Ipv6PrefixLength = 64 } }, "spec.podNetwork.ipv6PrefixLength", "/64 must be longer than a node's /64 (ipv6NodePrefixLength), from which it is carved" },
        { "IPv6 pod range too small", new() { Ipv6Range = V6, PodNetwork = new() { Enabled = true, Ipv6PrefixLength = 124 } }, "spec.podNetwork.ipv6PrefixLength", "and at most /120" },
        { "IPv4 pod range too small", new() { Ipv6Range = V6, Ipv4Range = "10.42.0.0/16", Ipv4NodePrefixLength = 24, PodNetwork = new() { Enabled = true, Ipv4PrefixLength = 31 } }, "spec.podNetwork.ipv4PrefixLength", "and at most /30" },
        { "IPv4 pod range without an IPv4 range", new() { Ipv6Range = V6, PodNetwork = new() { Enabled = true, Ipv4PrefixLength = 25 } }, "spec.podNetwork.ipv4PrefixLength", "/25 is set but the mesh has no ipv4Range" },
        { "min bridges too many", new() { Ipv6Range = V6, MinBridges = 1001 }, "spec.minBridges", "must be between 1 and 1000 (got 1001)" },
    };

    [Fact]
    public void Validate_OnlyTheIpv6Range_GivesTheDefaultLayout()
    {
        var result = MeshValidator.Validate(new MeshSpec { Ipv6Range = V6 });
        Assert.True(result.IsValid);
        Assert.Empty(result.Warnings);
        var layout = result.ValueOrThrow();
        Assert.Equal(IpPrefix.Parse(V6), layout.Ipv6Range);
        Assert.Equal(64, layout.Ipv6NodePrefixLength);
        Assert.Null(layout.Ipv4Range);
        Assert.Equal(32, layout.Ipv4NodePrefixLength);
        Assert.Equal(1, layout.Order);
        Assert.Empty(layout.SubMeshes);
        Assert.Equal(0.1, layout.BridgeShare);
        Assert.Equal(0.3, layout.BridgeRenewShare);
        Assert.Equal(2, layout.MinBridges);
    }

    [Fact]
    public void Validate_FullSpec_ParsesEveryField()
    {
        var layout = MeshValidator.Validate(new MeshSpec
        {
            Ipv6Range = "fd00:1::/40",
            Ipv6NodePrefixLength = 80,
            Ipv4Range = "10.42.0.0/16",
            Ipv4NodePrefixLength = 30,
            Order = 3,
            SubMeshes = [8, 16],
            BridgeShare = 0.2,
            BridgeRenewShare = 0.5,
            MinBridges = 3,
        }).ValueOrThrow();
        Assert.Equal("fd00:1::/40", layout.Ipv6Range.ToString());
        Assert.Equal(80, layout.Ipv6NodePrefixLength);
        Assert.Equal("10.42.0.0/16", layout.Ipv4Range.ToString());
        Assert.Equal(30, layout.Ipv4NodePrefixLength);
        Assert.Equal(3, layout.Order);
        Assert.Equal([8, 16], layout.SubMeshes);
        Assert.Equal(0.2, layout.BridgeShare);
        Assert.Equal(0.5, layout.BridgeRenewShare);
        Assert.Equal(3, layout.MinBridges);
        Assert.Equal(7, layout.SubMeshBits);
        Assert.Equal(128, layout.LeafCount);

        // 16 - 7 bits leave a /23 per sub-mesh, so 2^(30-23) = 128 IPv4 /30s; IPv6 has far more.
        Assert.Equal(128, layout.SlotsPerLeaf);
    }

    [Theory]
    [InlineData(2, 10_000, new[] { 100 })]
    [InlineData(2, 3_000, new[] { 55 })]
    [InlineData(3, 8_000, new[] { 20, 20 })]
    [InlineData(3, 1, new[] { 2, 2 })]
    public void Validate_ExpectedNodesWithoutSubMeshes_SuggestsTheFanOut(int order, int expected, int[] fanOut)
    {
        var layout = MeshValidator.Validate(new MeshSpec { Ipv6Range = V6, Order = order, ExpectedNodes = expected }).ValueOrThrow();
        Assert.Equal(fanOut, layout.SubMeshes);
        Assert.Equal(fanOut, MeshLayout.SuggestSubMeshes(expected, order));
    }

    [Fact]
    public void Validate_AnOrderOutOfRangeWithExpectedNodes_IsAnErrorOnTheOrder_NotALayoutOfThatManyLevels()
    {
        // Found by the spec fuzz pass (HostileSpecTests): laying out int.MaxValue levels ran out of memory.
        var result = MeshValidator.Validate(new MeshSpec { Ipv6Range = V6, Order = int.MaxValue, ExpectedNodes = 1000 });

        Assert.False(result.IsValid);
        Assert.Contains(result.Errors, e => e.Path == "spec.order");
    }

    [Fact]
    public void Validate_SubMeshesAndExpectedNodes_KeepsTheDeclaredSubMeshes() =>
        Assert.Equal([7], MeshValidator.Validate(new MeshSpec { Ipv6Range = V6, Order = 2, SubMeshes = [7], ExpectedNodes = 10_000 }).ValueOrThrow().SubMeshes);

    [Fact]
    public void Validate_ExactlyOnePrefixPerSubMesh_IsValid()
    {
        var result = MeshValidator.Validate(new MeshSpec { Ipv6Range = V6, Ipv6NodePrefixLength = 50, Order = 2, SubMeshes = [4], ExpectedNodes = 4 });
        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        Assert.Equal(1, result.Value!.SlotsPerLeaf);
    }

    // 4 sub-meshes of 2^61 or more node prefixes each: the total exceeds a long.
    [Theory]
    [InlineData(111)]
    [InlineData(112)]
    [InlineData(128)]
    public void Validate_MoreNodePrefixesThanALongHolds_IsValid(int nodePrefixLength)
    {
        var result = MeshValidator.Validate(new MeshSpec { Ipv6Range = V6, Ipv6NodePrefixLength = nodePrefixLength, Order = 2, SubMeshes = [4], ExpectedNodes = 1_000 });
        Assert.True(result.IsValid, string.Join("; ", result.Errors));
    }

    [Fact]
    public void Validate_ExpectedNodesThatJustFit_IsValid() =>
        Assert.True(MeshValidator.Validate(new MeshSpec { Ipv6Range = V6, Ipv4Range = "10.42.0.0/24", Order = 2, SubMeshes = [4], ExpectedNodes = 256 }).IsValid);

    [Fact]
    public void Validate_BridgeShareZeroAtOrderOne_IsValid() =>
        Assert.True(MeshValidator.Validate(new MeshSpec { Ipv6Range = V6, BridgeShare = 0 }).IsValid);

    [Fact]
    public void Validate_BridgeRenewShareZeroAtOrderTwo_WarnsThatBridgesAreNeverReelected()
    {
        var result = MeshValidator.Validate(new MeshSpec { Ipv6Range = V6, Order = 2, SubMeshes = [4], BridgeRenewShare = 0 });
        Assert.True(result.IsValid);
        var warning = Assert.Single(result.Warnings);
        Assert.Equal("spec.bridgeRenewShare", warning.Path);
        Assert.Equal(Principle.LifeRequiresDestruction, warning.Principle);
    }

    [Fact]
    public void Validate_BridgeRenewShareZeroAtOrderOne_DoesNotWarn() =>
        Assert.Empty(MeshValidator.Validate(new MeshSpec { Ipv6Range = V6, BridgeRenewShare = 0 }).Warnings);

    [Theory]
    [MemberData(nameof(InvalidFields))]
    public void Validate_InvalidField_ReportsItsPathAndReason(string field, MeshSpec spec, string path, string reason)
    {
        var result = MeshValidator.Validate(spec);
        Assert.False(result.IsValid, field);
        Assert.Null(result.Value);
        var error = Assert.Single(result.Errors);
        Assert.Equal(path, error.Path);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.Throws<InvalidSpecException>(result.ValueOrThrow);
    }

    [Fact]
    public void Validate_ManyProblems_ReportsEveryOne()
    {
        var result = MeshValidator.Validate(new MeshSpec
        {
            Ipv6Range = "fd5e:6e7::1/48",
            Ipv6NodePrefixLength = 130,
            Ipv4Range = "fd00::/8",
            Ipv4NodePrefixLength = 40,
            Order = 2,
            SubMeshes = [1, 3],
            ExpectedNodes = -5,
            BridgeShare = 0,
            BridgeRenewShare = 2,
            MinBridges = 0,
        }, "meshes[0].spec");
        Assert.Equal(
            [
                "meshes[0].spec.ipv6Range", "meshes[0].spec.ipv6NodePrefixLength", "meshes[0].spec.ipv4Range",
                "meshes[0].spec.ipv4NodePrefixLength", "meshes[0].spec.subMeshes", "meshes[0].spec.subMeshes[0]",
                "meshes[0].spec.expectedNodes", "meshes[0].spec.bridgeShare", "meshes[0].spec.bridgeRenewShare",
                "meshes[0].spec.minBridges",
            ],
            result.Errors.Select(e => e.Path));
        Assert.Equal(result.Errors, Assert.Throws<InvalidSpecException>(result.ValueOrThrow).Errors);
    }

    [Fact]
    public void Validate_BothFamiliesWithoutRoom_ReportsBoth()
    {
        var result = MeshValidator.Validate(new MeshSpec { Ipv6Range = V6, Ipv6NodePrefixLength = 48, Ipv4Range = "10.42.0.0/16", Ipv4NodePrefixLength = 8 });
        Assert.Equal(["spec.ipv6NodePrefixLength", "spec.ipv4NodePrefixLength"], result.Errors.Select(e => e.Path));
    }
}
