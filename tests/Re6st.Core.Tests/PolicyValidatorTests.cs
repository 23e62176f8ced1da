using Re6st.Core.Policy;
using Re6st.Core.Validation;

namespace Re6st.Core.Tests;

public sealed class PolicyValidatorTests
{
    public static TheoryData<string, RandomizationPolicySpec, string, string> InvalidFields => new()
    {
        { "refresh period with an unknown unit", new() { RefreshPeriod = "5 minutes" }, "spec.refreshPeriod", "unknown unit" },
        { "refresh period not a duration", new() { RefreshPeriod = "soon" }, "spec.refreshPeriod", "is not a duration" },
        { "refresh period empty", new() { RefreshPeriod = "" }, "spec.refreshPeriod", "is empty" },
        { "refresh period below a second", new() { RefreshPeriod = "500ms" }, "spec.refreshPeriod", "must be at least 1s (got 500ms)" },
        { "refresh period zero", new() { RefreshPeriod = "0" }, "spec.refreshPeriod", "must be at least 1s" },
        { "destroy share negative", new() { DestroyShare = -0.1 }, "spec.destroyShare", "must be a share between 0 and 1 (got -0.1)" },
        { "destroy share above one", new() { DestroyShare = 1.5 }, "spec.destroyShare", "must be a share between 0 and 1 (got 1.5)" },
        { "destroy share NaN", new() { DestroyShare = double.NaN }, "spec.destroyShare", "must be a share between 0 and 1" },
        { "max drain not a duration", new() { MaxDrain = "forever" }, "spec.maxDrain", "or 'never'" },
        { "max drain with a unit Kubernetes does not use", new() { MaxDrain = "2d" }, "spec.maxDrain", "unknown unit" },
        { "max drain negative", new() { MaxDrain = "-5m" }, "spec.maxDrain", "must not be negative (got -5m)" },
        { "most-used share above one", new() { MostUsedShare = 2 }, "spec.mostUsedShare", "must be a share between 0 and 1 (got 2)" },
        { "most-used share negative", new() { MostUsedShare = -1 }, "spec.mostUsedShare", "must be a share between 0 and 1" },
        { "most-used factor above one", new() { MostUsedFactor = 1.01 }, "spec.mostUsedFactor", "must be a share between 0 and 1 (got 1.01)" },
        { "most-used factor negative", new() { MostUsedFactor = -0.5 }, "spec.mostUsedFactor", "must be a share between 0 and 1" },
        { "arrows per node zero", new() { ArrowsPerNode = 0 }, "spec.arrowsPerNode", "must be between 1 and 256 (got 0)" },
        { "arrows per node too many", new() { ArrowsPerNode = 257 }, "spec.arrowsPerNode", "must be between 1 and 256 (got 257)" },
        { "preferred without selector", new() { Preferred = new() { Share = 0.3 } }, "spec.preferred.selector", "is required" },
        { "preferred with an empty selector", new() { Preferred = new() { Selector = new() } }, "spec.preferred.selector", "must select something" },
        { "preferred share above one", new() { Preferred = new() { Selector = Labels("dc", "core"), Share = 1.2 } }, "spec.preferred.share", "must be a share between 0 and 1 (got 1.2)" },
        { "preferred label key invalid", new() { Preferred = new() { Selector = Labels("bad key!", "x") } }, "spec.preferred.selector.matchLabels", "'bad key!' is not a valid label key" },
        { "preferred label key with a bad prefix", new() { Preferred = new() { Selector = Labels("Example.COM/dc", "x") } }, "spec.preferred.selector.matchLabels", "is not a valid label key" },
        { "preferred label value invalid", new() { Preferred = new() { Selector = Labels("dc", "-core") } }, "spec.preferred.selector.matchLabels[dc]", "'-core' is not a valid label value" },
        { "preferred label value too long", new() { Preferred = new() { Selector = Labels("dc", new string('a', 64)) } }, "spec.preferred.selector.matchLabels[dc]", "is not a valid label value" },
        { "expression without key", new() { Preferred = new() { Selector = Expression(null, "Exists") } }, "spec.preferred.selector.matchExpressions[0].key", "is required" },
        { "expression with an invalid key", new() { Preferred = new() { Selector = Expression("a b", "Exists") } }, "spec.preferred.selector.matchExpressions[0].key", "is not a valid label key" },
        { "expression with an unknown operator", new() { Preferred = new() { Selector = Expression("dc", "Equals", "x") } }, "spec.preferred.selector.matchExpressions[0].operator", "'Equals' is not one of In, NotIn, Exists, DoesNotExist" },
        { "expression In without values", new() { Preferred = new() { Selector = Expression("dc", "In") } }, "spec.preferred.selector.matchExpressions[0].values", "must not be empty for operator In" },
        { "expression NotIn without values", new() { Preferred = new() { Selector = Expression("dc", "NotIn") } }, "spec.preferred.selector.matchExpressions[0].values", "must not be empty for operator NotIn" },
        { "expression Exists with values", new() { Preferred = new() { Selector = Expression("dc", "Exists", "x") } }, "spec.preferred.selector.matchExpressions[0].values", "must be empty for operator Exists" },
        { "expression DoesNotExist with values", new() { Preferred = new() { Selector = Expression("dc", "DoesNotExist", "x") } }, "spec.preferred.selector.matchExpressions[0].values", "must be empty for operator DoesNotExist" },
        { "bootstrap peer blank", new() { BootstrapPeers = ["a", " "] }, "spec.bootstrapPeers[1]", "must name a node" },
        { "bootstrap peer twice", new() { BootstrapPeers = ["a", "b", "a"] }, "spec.bootstrapPeers", "names a node more than once" },
        { "technology unknown", new() { TechnologyRules = [new() { Technology = "ipsec", DenyWhen = Labels("filtered", "yes") }] }, "spec.technologyRules[0].technology", "'ipsec' is not a known technology (wireguard, openvpn)" },
        { "technology missing", new() { TechnologyRules = [new() { DenyWhen = Labels("filtered", "yes") }] }, "spec.technologyRules[0].technology", "is not a known technology" },
        { "technology rule without selector", new() { TechnologyRules = [new() { Technology = "openvpn" }] }, "spec.technologyRules[0].denyWhen", "is required" },
        { "technology rule with an empty selector", new() { TechnologyRules = [new() { Technology = "openvpn", DenyWhen = new() }] }, "spec.technologyRules[0].denyWhen", "must select something" },
        { "technology rule with a bad label", new() { TechnologyRules = [new() { Technology = "openvpn", DenyWhen = Labels("filtered", "a b") }] }, "spec.technologyRules[0].denyWhen.matchLabels[filtered]", "is not a valid label value" },
        { "small mesh size negative", new() { SmallMeshSize = -1 }, "spec.smallMeshSize", "must be between 0 and 64 (got -1)" },
        { "small mesh size too large", new() { SmallMeshSize = 65 }, "spec.smallMeshSize", "must be between 0 and 64 (got 65)" },
    };

    public static TheoryData<string, RandomizationPolicySpec, string, Principle> Warnings => new()
    {
        { "destroy share zero", new() { DestroyShare = 0 }, "spec.destroyShare", Principle.LifeRequiresDestruction },
        { "max drain never", new() { MaxDrain = "never" }, "spec.maxDrain", Principle.LifeRequiresDestruction },
        { "max drain Never, spaced", new() { MaxDrain = " Never " }, "spec.maxDrain", Principle.LifeRequiresDestruction },
        { "most-used factor zero", new() { MostUsedFactor = 0 }, "spec.mostUsedFactor", Principle.LifeRequiresDestruction },
        { "most-used share one", new() { MostUsedShare = 1 }, "spec.mostUsedShare", Principle.LifeRequiresDestruction },
        { "one arrow per node", new() { ArrowsPerNode = 1 }, "spec.arrowsPerNode", Principle.RandomnessCreatesResiliency },
        { "two arrows per node", new() { ArrowsPerNode = 2 }, "spec.arrowsPerNode", Principle.RandomnessCreatesResiliency },
        { "preferred share one", new() { Preferred = new() { Selector = Labels("dc", "core"), Share = 1 } }, "spec.preferred.share", Principle.RandomnessCreatesResiliency },
        { "preferred by region", new() { Preferred = new() { Selector = Labels("region", "eu") } }, "spec.preferred.selector", Principle.RandomnessCreatesResiliency },
        { "preferred by topology zone", new() { Preferred = new() { Selector = Labels("topology.kubernetes.io/zone", "eu-1a") } }, "spec.preferred.selector", Principle.RandomnessCreatesResiliency },
        { "preferred by cloud provider", new() { Preferred = new() { Selector = Labels("cloud-Provider", "acme") } }, "spec.preferred.selector", Principle.RandomnessCreatesResiliency },
        { "preferred by a region expression", new() { Preferred = new() { Selector = Expression("example.com/Region", "NotIn", "us") } }, "spec.preferred.selector", Principle.RandomnessCreatesResiliency },
        { "destroy share near zero", new() { DestroyShare = 0.01 }, "spec.destroyShare", Principle.LifeRequiresDestruction },
        { "arrows living a day on average", new() { RefreshPeriod = "8h", DestroyShare = 0.3 }, "spec.refreshPeriod", Principle.LifeRequiresDestruction },
        { "max drain of a day", new() { MaxDrain = "24h" }, "spec.maxDrain", Principle.LifeRequiresDestruction },
        { "preferred share crowding out the draw", new() { Preferred = new() { Selector = Labels("dc", "core"), Share = 0.8 } }, "spec.preferred.share", Principle.RandomnessCreatesResiliency },
    };

    [Theory]
    [InlineData("7h", 0.3, "23h", 0.5)]
    [InlineData("1m", 0.05, "60m", 0.3)]
    public void Validate_JustWithinTheNewBounds_DoesNotWarn(string refresh, double destroyShare, string maxDrain, double preferredShare) =>
        Assert.Empty(PolicyValidator.Validate(new RandomizationPolicySpec
        {
            RefreshPeriod = refresh,
            DestroyShare = destroyShare,
            MaxDrain = maxDrain,
            Preferred = new() { Selector = Labels("dc", "core"), Share = preferredShare },
        }).Warnings);

    [Fact]
    public void Validate_EmptySpec_GivesTheDefaultsWithoutWarnings()
    {
        var result = PolicyValidator.Validate(new RandomizationPolicySpec());
        Assert.True(result.IsValid);
        Assert.Empty(result.Errors);
        Assert.Empty(result.Warnings);
        Assert.Equal(RandomizationPolicy.Default.RefreshPeriod, result.Value!.RefreshPeriod);
        Assert.Equal(RandomizationPolicy.Default.DestroyShare, result.Value.DestroyShare);
        Assert.Equal(RandomizationPolicy.Default.MaxDrain, result.Value.MaxDrain);
        Assert.Equal(RandomizationPolicy.Default.MostUsedShare, result.Value.MostUsedShare);
        Assert.Equal(RandomizationPolicy.Default.MostUsedFactor, result.Value.MostUsedFactor);
        Assert.Equal(RandomizationPolicy.Default.ArrowsPerNode, result.Value.ArrowsPerNode);
        Assert.Equal(RandomizationPolicy.Default.SmallMeshSize, result.Value.SmallMeshSize);
        Assert.Null(result.Value.Preferred);
        Assert.Empty(result.Value.BootstrapPeers);
        Assert.Empty(result.Value.TechnologyRules);
    }

    [Fact]
    public void Validate_DefaultsWrittenOut_AreValidWithoutWarnings()
    {
        var result = PolicyValidator.Validate(new RandomizationPolicySpec
        {
            RefreshPeriod = "5m",
            DestroyShare = 0.3,
            MaxDrain = "60m",
            MostUsedShare = 0.2,
            MostUsedFactor = 0.5,
            ArrowsPerNode = 10,
            SmallMeshSize = 8,
        });
        Assert.True(result.IsValid);
        Assert.Empty(result.Warnings);
        Assert.Equal(RandomizationPolicy.Default, result.Value! with { BootstrapPeers = RandomizationPolicy.Default.BootstrapPeers, TechnologyRules = RandomizationPolicy.Default.TechnologyRules });
    }

    [Fact]
    public void Validate_FullSpec_ParsesEveryField()
    {
        var result = PolicyValidator.Validate(new RandomizationPolicySpec
        {
            RefreshPeriod = "90s",
            DestroyShare = 0.25,
            MaxDrain = "1h30m",
            MostUsedShare = 0.1,
            MostUsedFactor = 0.4,
            ArrowsPerNode = 12,
            Preferred = new() { Selector = Labels("tier", "core") },
            BootstrapPeers = ["seed-1", "seed-2"],
            TechnologyRules = [new() { Technology = "OpenVPN", DenyWhen = Labels("filtered", "yes") }],
            SmallMeshSize = 0,
        });
        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        Assert.Empty(result.Warnings);
        var policy = result.ValueOrThrow();
        Assert.Equal(TimeSpan.FromSeconds(90), policy.RefreshPeriod);
        Assert.Equal(0.25, policy.DestroyShare);
        Assert.Equal(TimeSpan.FromMinutes(90), policy.MaxDrain);
        Assert.Equal(0.1, policy.MostUsedShare);
        Assert.Equal(0.4, policy.MostUsedFactor);
        Assert.Equal(12, policy.ArrowsPerNode);
        Assert.Equal(0.3, policy.Preferred!.Share);
        Assert.Equal("tier=core", policy.Preferred.Selector.ToString());
        Assert.Equal(["seed-1", "seed-2"], policy.BootstrapPeers);
        var rule = Assert.Single(policy.TechnologyRules);
        Assert.Equal(TunnelTechnology.OpenVpn, rule.Technology);
        Assert.True(rule.DenyWhen.Matches(new Dictionary<string, string> { ["filtered"] = "yes" }));
        Assert.False(rule.DenyWhen.Matches(new Dictionary<string, string> { ["filtered"] = "no" }));
        Assert.Equal(0, policy.SmallMeshSize);
    }

    [Fact]
    public void Validate_MaxDrainNever_IsNullWithAWarning()
    {
        var result = PolicyValidator.Validate(new RandomizationPolicySpec { MaxDrain = "never" });
        Assert.True(result.IsValid);
        Assert.Null(result.Value!.MaxDrain);
    }

    [Theory]
    [MemberData(nameof(InvalidFields))]
    public void Validate_InvalidField_ReportsItsPathAndReason(string field, RandomizationPolicySpec spec, string path, string reason)
    {
        var result = PolicyValidator.Validate(spec);
        Assert.False(result.IsValid, field);
        Assert.Null(result.Value);
        var error = Assert.Single(result.Errors);
        Assert.Equal(path, error.Path);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.Throws<InvalidSpecException>(result.ValueOrThrow);
    }

    [Theory]
    [MemberData(nameof(Warnings))]
    public void Validate_SettingThatWeakensAPrinciple_WarnsWithThePrincipleAndPath(string setting, RandomizationPolicySpec spec, string path, Principle principle)
    {
        var result = PolicyValidator.Validate(spec);
        Assert.True(result.IsValid, $"{setting}: {string.Join("; ", result.Errors)}");
        var warning = Assert.Single(result.Warnings);
        Assert.Equal(path, warning.Path);
        Assert.Equal(principle, warning.Principle);
        Assert.False(string.IsNullOrWhiteSpace(warning.Reason));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(256)]
    public void Validate_ThreeOrMoreArrowsPerNode_DoesNotWarn(int arrows) =>
        Assert.Empty(PolicyValidator.Validate(new RandomizationPolicySpec { ArrowsPerNode = arrows }).Warnings);

    [Fact]
    public void Validate_MostUsedFactorZeroWithNoMostUsedShare_DoesNotWarn() =>
        Assert.Empty(PolicyValidator.Validate(new RandomizationPolicySpec { MostUsedShare = 0, MostUsedFactor = 0 }).Warnings);

    [Fact]
    public void Validate_MostUsedShareOneWithFactorOne_DoesNotWarn() =>
        Assert.Empty(PolicyValidator.Validate(new RandomizationPolicySpec { MostUsedShare = 1, MostUsedFactor = 1 }).Warnings);

    [Fact]
    public void Validate_PreferredByANonGroupingLabel_DoesNotWarn() =>
        Assert.Empty(PolicyValidator.Validate(new RandomizationPolicySpec { Preferred = new() { Selector = Labels("re6st.io/well-known", "true") } }).Warnings);

    [Fact]
    public void Validate_PreferredShareAboveOne_IsAnErrorAndAWarning()
    {
        var result = PolicyValidator.Validate(new RandomizationPolicySpec { Preferred = new() { Selector = Labels("dc", "core"), Share = 1.5 } });
        Assert.Equal("spec.preferred.share", Assert.Single(result.Errors).Path);
        Assert.Equal(Principle.RandomnessCreatesResiliency, Assert.Single(result.Warnings).Principle);
    }

    [Fact]
    public void Validate_ManyProblems_ReportsEveryOne()
    {
        var result = PolicyValidator.Validate(new RandomizationPolicySpec
        {
            RefreshPeriod = "often",
            DestroyShare = 3,
            MaxDrain = "later",
            MostUsedShare = -1,
            MostUsedFactor = 7,
            ArrowsPerNode = 0,
            Preferred = new() { Share = 0.5 },
            BootstrapPeers = ["", "x", "x"],
            TechnologyRules = [new() { Technology = "gre", DenyWhen = Labels("a", "b") }, new() { Technology = "wireguard" }],
            SmallMeshSize = 100,
        });
        Assert.False(result.IsValid);
        Assert.Equal(
            [
                "spec.refreshPeriod", "spec.destroyShare", "spec.maxDrain", "spec.mostUsedShare", "spec.mostUsedFactor",
                "spec.arrowsPerNode", "spec.preferred.selector", "spec.bootstrapPeers[0]", "spec.bootstrapPeers",
                "spec.technologyRules[0].technology", "spec.technologyRules[1].denyWhen", "spec.smallMeshSize",
            ],
            result.Errors.Select(e => e.Path));
        var thrown = Assert.Throws<InvalidSpecException>(result.ValueOrThrow);
        Assert.Equal(result.Errors, thrown.Errors);
    }

    [Fact]
    public void Validate_WarningsAndErrorsTogether_AreAllReported()
    {
        var result = PolicyValidator.Validate(new RandomizationPolicySpec { DestroyShare = 0, MaxDrain = "never", ArrowsPerNode = 500, MostUsedFactor = 0 });
        Assert.Equal("spec.arrowsPerNode", Assert.Single(result.Errors).Path);
        Assert.Equal(["spec.destroyShare", "spec.maxDrain", "spec.mostUsedFactor"], result.Warnings.Select(w => w.Path));
        Assert.All(result.Warnings, w => Assert.Equal(Principle.LifeRequiresDestruction, w.Principle));
    }

    [Fact]
    public void Validate_CustomPath_PrefixesEveryPath()
    {
        var result = PolicyValidator.Validate(new RandomizationPolicySpec { DestroyShare = 2, ArrowsPerNode = 1 }, "policies[3].spec");
        Assert.Equal("policies[3].spec.destroyShare", Assert.Single(result.Errors).Path);
        Assert.Equal("policies[3].spec.arrowsPerNode", Assert.Single(result.Warnings).Path);
    }

    [Fact]
    public void Validate_WarningText_NamesThePrinciple()
    {
        var warning = Assert.Single(PolicyValidator.Validate(new RandomizationPolicySpec { DestroyShare = 0 }).Warnings);
        Assert.StartsWith("spec.destroyShare: breaks \"life requires destruction\": ", warning.ToString(), StringComparison.Ordinal);
    }

    private static LabelSelectorSpec Labels(string key, string value) => new() { MatchLabels = new Dictionary<string, string> { [key] = value } };

    /// <summary>One expression, next to a valid tier=core label so the selector is never empty.</summary>
    private static LabelSelectorSpec Expression(string? key, string op, params string[] values) => new()
    {
        MatchLabels = new Dictionary<string, string> { ["tier"] = "core" },
        MatchExpressions = [new LabelRequirementSpec { Key = key, Operator = op, Values = values }],
    };
}
