using Re6st.Core.Validation;

namespace Re6st.Core.Policy;

/// <summary>
/// Checks a declared policy: every invalid value is an error naming its field; every valid value
/// that weakens a principle is a warning naming the principle.
/// </summary>
public static class PolicyValidator
{
    /// <summary>Label keys that group nodes by place or provider: selecting on them undoes randomness.</summary>
    private static readonly string[] GroupingKeyWords = ["region", "zone", "provider"];

    /// <summary>Below this destroy share paths barely change (one arrow in twenty or fewer per period).</summary>
    public const double NearZeroDestroyShare = 0.05;

    /// <summary>An arrow's mean life (refreshPeriod / destroyShare), or a maxDrain, past which destruction stops in practice.</summary>
    public static readonly TimeSpan LongestMeanLife = TimeSpan.FromDays(1);

    /// <summary>Above this share of preferred draws, the uniform draw over the whole mesh is crowded out.</summary>
    public const double MostPreferredShare = 0.5;

    public static Validated<RandomizationPolicy> Validate(RandomizationPolicySpec spec, string path = "spec")
    {
        ArgumentNullException.ThrowIfNull(spec);
        var issues = new IssueCollector();
        var d = RandomizationPolicy.Default;

        var refresh = d.RefreshPeriod;
        if (spec.RefreshPeriod is not null)
        {
            if (!GoDuration.TryParse(spec.RefreshPeriod, out refresh, out var error))
            {
                issues.Error($"{path}.refreshPeriod", error);
            }
            else if (refresh < TimeSpan.FromSeconds(1))
            {
                issues.Error($"{path}.refreshPeriod", $"must be at least 1s (got {spec.RefreshPeriod})");
            }
        }

        var destroyShare = issues.Share($"{path}.destroyShare", spec.DestroyShare, d.DestroyShare);
        if (destroyShare == 0)
        {
            issues.Warn($"{path}.destroyShare", Principle.LifeRequiresDestruction, "0 means no arrow is ever replaced, so paths become deterministic and long-lived");
        }
        else if (destroyShare < NearZeroDestroyShare)
        {
            issues.Warn($"{path}.destroyShare", Principle.LifeRequiresDestruction, $"{destroyShare:0.###} replaces so few arrows that paths barely change; use {NearZeroDestroyShare} or more");
        }
        else if (destroyShare > 0 && refresh >= TimeSpan.FromSeconds(1) && refresh / destroyShare >= LongestMeanLife)
        {
            issues.Warn($"{path}.refreshPeriod", Principle.LifeRequiresDestruction, $"with destroyShare {destroyShare:0.###} an arrow lives {Describe(refresh / destroyShare)} on average, so destruction stops in practice; keep refreshPeriod / destroyShare under {Describe(LongestMeanLife)}");
        }

        TimeSpan? maxDrain = d.MaxDrain;
        if (spec.MaxDrain is not null)
        {
            if (string.Equals(spec.MaxDrain.Trim(), "never", StringComparison.OrdinalIgnoreCase))
            {
                maxDrain = null;
                issues.Warn($"{path}.maxDrain", Principle.LifeRequiresDestruction, "'never' lets an arrow in use live forever; set a bound such as 60m");
            }
            else if (!GoDuration.TryParse(spec.MaxDrain, out var md, out var error))
            {
                issues.Error($"{path}.maxDrain", error + ", or 'never'");
            }
            else if (md < TimeSpan.Zero)
            {
                issues.Error($"{path}.maxDrain", $"must not be negative (got {spec.MaxDrain})");
            }
            else
            {
                maxDrain = md;
                if (md >= LongestMeanLife)
                {
                    issues.Warn($"{path}.maxDrain", Principle.LifeRequiresDestruction, $"{spec.MaxDrain} lets an arrow in use outlive its destruction that long, so the arrows that carry routes are in practice never destroyed; use a bound such as 60m");
                }
            }
        }

        var mostUsedShare = issues.Share($"{path}.mostUsedShare", spec.MostUsedShare, d.MostUsedShare);
        var mostUsedFactor = issues.Share($"{path}.mostUsedFactor", spec.MostUsedFactor, d.MostUsedFactor);
        if (mostUsedFactor == 0 && mostUsedShare > 0)
        {
            issues.Warn($"{path}.mostUsedFactor", Principle.LifeRequiresDestruction, "0 means the most-used arrows are never destroyed");
        }

        if (mostUsedShare == 1 && mostUsedFactor < 1)
        {
            issues.Warn($"{path}.mostUsedShare", Principle.LifeRequiresDestruction, "1 turns the most-used exception into the rule: every arrow is spared");
        }

        var arrows = issues.Range($"{path}.arrowsPerNode", spec.ArrowsPerNode, d.ArrowsPerNode, 1, 256);
        if (arrows is >= 1 and < 3)
        {
            issues.Warn($"{path}.arrowsPerNode", Principle.RandomnessCreatesResiliency, $"{arrows} random arrows per node leave the mesh easy to cut; use 3 or more");
        }

        PreferredSubset? preferred = null;
        if (spec.Preferred is { } pref)
        {
            var share = issues.Share($"{path}.preferred.share", pref.Share, 0.3);
            if (pref.Selector is null)
            {
                issues.Error($"{path}.preferred.selector", "is required when preferred is set");
            }
            else
            {
                var selector = LabelSelector.Check(pref.Selector, $"{path}.preferred.selector", issues);
                if (selector.IsEmpty)
                {
                    issues.Error($"{path}.preferred.selector", "must select something (an empty selector matches every node)");
                }

                if (share >= 1)
                {
                    issues.Warn($"{path}.preferred.share", Principle.RandomnessCreatesResiliency, "1 or more sends every arrow to the preferred subset, so the rest of the mesh is never chosen");
                }
                else if (share > MostPreferredShare)
                {
                    issues.Warn($"{path}.preferred.share", Principle.RandomnessCreatesResiliency, $"{share:0.###} sends most arrows to the preferred subset, crowding out the uniform draw over the whole mesh; keep it at {MostPreferredShare} or less");
                }

                WarnOnGrouping(selector, $"{path}.preferred.selector", issues);
                preferred = new PreferredSubset(selector, share);
            }
        }

        var bootstrap = spec.BootstrapPeers ?? [];
        for (var i = 0; i < bootstrap.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(bootstrap[i]))
            {
                issues.Error($"{path}.bootstrapPeers[{i}]", "must name a node");
            }
        }

        if (bootstrap.Distinct(StringComparer.Ordinal).Count() != bootstrap.Count)
        {
            issues.Error($"{path}.bootstrapPeers", "names a node more than once");
        }

        var rules = new List<TechnologyRule>();
        var ruleSpecs = spec.TechnologyRules ?? [];
        for (var i = 0; i < ruleSpecs.Count; i++)
        {
            var r = ruleSpecs[i];
            var p = $"{path}.technologyRules[{i}]";
            if (!TunnelTechnologyNames.TryParse(r.Technology, out var tech))
            {
                issues.Error($"{p}.technology", $"'{r.Technology}' is not a known technology ({string.Join(", ", TunnelTechnologyNames.Known)})");
            }

            if (r.DenyWhen is null)
            {
                issues.Error($"{p}.denyWhen", "is required: the label selector of nodes that must not use this technology");
                continue;
            }

            var selector = LabelSelector.Check(r.DenyWhen, $"{p}.denyWhen", issues);
            if (selector.IsEmpty)
            {
                issues.Error($"{p}.denyWhen", "must select something (an empty selector would forbid the technology everywhere)");
            }

            rules.Add(new TechnologyRule(tech, selector));
        }

        var smallMesh = issues.Range($"{path}.smallMeshSize", spec.SmallMeshSize, d.SmallMeshSize, 0, 64);

        return issues.Result(new RandomizationPolicy
        {
            RefreshPeriod = refresh,
            DestroyShare = destroyShare,
            MaxDrain = maxDrain,
            MostUsedShare = mostUsedShare,
            MostUsedFactor = mostUsedFactor,
            ArrowsPerNode = arrows,
            Preferred = preferred,
            BootstrapPeers = [.. bootstrap],
            TechnologyRules = rules,
            SmallMeshSize = smallMesh,
        });
    }

    private static void WarnOnGrouping(LabelSelector selector, string path, IssueCollector issues)
    {
        foreach (var key in selector.Keys)
        {
            var name = key[(key.LastIndexOf('/') + 1)..].ToLowerInvariant();
            if (GroupingKeyWords.Any(w => name.Contains(w, StringComparison.Ordinal)))
            {
                issues.Warn(path, Principle.RandomnessCreatesResiliency, $"selects by '{key}': arrows must never be grouped by region, zone or provider");
            }
        }
    }

    private static string Describe(TimeSpan span) => span.TotalDays >= 1
        ? $"{span.TotalDays:0.#} day(s)"
        : span.TotalHours >= 1 ? $"{span.TotalHours:0.#} h" : $"{span.TotalMinutes:0.#} min";
}
