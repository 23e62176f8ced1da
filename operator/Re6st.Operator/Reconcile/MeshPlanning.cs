using k8s.Models;
using Re6st.Contracts;
using Re6st.Core.Addressing;
using Re6st.Core.Arrows;
using Re6st.Core.Planning;
using Re6st.Core.Policy;
using Re6st.Core.Randomness;
using Re6st.Core.Validation;
using Re6st.Operator.Health;
using Re6st.Operator.Resources;

namespace Re6st.Operator.Reconcile;

/// <summary>
/// The reconcile decision for one mesh, a pure function of a snapshot: check the Mesh and its
/// policy (every problem, with its field), select the Nodes, plan with the core from the
/// allocations the MeshNodes already carry, and describe the MeshNodes and status that follow.
/// </summary>
public static class MeshPlanning
{
    public const int MaxListedSubMeshes = 256;
    public static readonly TimeSpan DefaultReelectionPeriod = TimeSpan.FromHours(1);

    /// <summary>
    /// What the operator finds wrong with a Mesh before planning it, as <see cref="Compute"/> reports
    /// it: errors ("field: reason", planning stops) and principle warnings. <c>re6st lint</c> runs
    /// this on files before they are applied.
    /// </summary>
    /// <param name="policy">The RandomizationPolicy the mesh follows (null: built-in defaults, or an error when spec.policyRef names one).</param>
    /// <param name="others">The other meshes, whose ranges this one must not overlap.</param>
    public static (IReadOnlyList<string> Errors, IReadOnlyList<OutcomeEvent> Warnings) Check(V1Alpha1Mesh mesh, V1Alpha1RandomizationPolicy? policy, IReadOnlyList<V1Alpha1Mesh> others)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        ArgumentNullException.ThrowIfNull(others);
        var errors = new List<string>();
        var events = new List<OutcomeEvent>();
        _ = CheckSpec(mesh, policy, others, errors, events);
        return (errors, events);
    }

    public static MeshOutcome Compute(MeshSnapshot snapshot, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(random);
        var mesh = snapshot.Mesh;
        var errors = new List<string>();
        var events = new List<OutcomeEvent>();
        var valid = CheckSpec(mesh, snapshot.Policy, snapshot.OtherMeshes, errors, events);
        if (valid is null)
        {
            var message = string.Join("; ", errors);
            return new MeshOutcome(false, [], [], Failed(mesh, errors[0].StartsWith("RandomizationPolicy", StringComparison.Ordinal) ? "InvalidPolicy" : "InvalidSpec", message, snapshot.Now), [new OutcomeEvent(true, "InvalidSpec", message)]);
        }

        var (layout, reelection, hello, selector, technologies, policySpec, policy) = valid;
        var problems = new List<string>();
        var selected = snapshot.Nodes
            .Where(n => selector is null || selector.Matches(n.Metadata.Labels is { } l ? new Dictionary<string, string>(l) : NodeInfo.NoLabels))
            .OrderBy(n => n.Metadata.Name, StringComparer.Ordinal)
            .ToList();
        var nodes = selected.Select(n => NodeLabels.ToNodeInfo(n, technologies, problems)).ToList();
        events.AddRange(problems.Select(p => new OutcomeEvent(true, "NodeLabel", p)));

        var lastElection = mesh.Status?.LastBridgeElection;
        var reelect = layout.Order > 1 && lastElection is { } last && snapshot.Now - last >= reelection;
        var plan = MeshPlanner.Plan(layout, nodes, PlanStateReader.Read(snapshot.MeshNodes), reelect, random);
        events.AddRange(plan.Notes.Select(n => new OutcomeEvent(false, "Replanned", n)));
        if (reelect)
        {
            events.Add(new OutcomeEvent(false, "BridgesReelected", $"a random {layout.BridgeRenewShare:P0} of the bridges stepped down; {plan.Bridges.Count(b => b.Reason != BridgeReason.Kept)} bridge roles newly drawn"));
        }

        var snapshotPolicy = PolicySpecResource.FromCore(policy, policySpec);
        var desired = new List<V1Alpha1MeshNode>(plan.NodeCount);
        var podCidrs = new List<NodePodCidrs>();
        var conflicts = new List<string>();
        for (var i = 0; i < plan.NodeCount; i++)
        {
            if (plan.IsPlaced(i))
            {
                var nodePlan = plan.NodePlanFor(i);
                desired.Add(MeshNodeBuilder.Build(mesh.Metadata.Name, nodePlan, nodes[i], snapshotPolicy, hello, snapshot.KeySecret));
                if (nodePlan.Pods is { } pods)
                {
                    PodCidrsOf(selected[i], pods, podCidrs, conflicts);
                }
            }
        }

        if (conflicts.Count > 0)
        {
            events.Add(new OutcomeEvent(true, "PodRangeConflict", PodRangeConflictMessage(conflicts)));
        }

        var keep = desired.Select(d => d.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        var delete = snapshot.MeshNodes.Select(m => m.Metadata.Name).Where(n => !keep.Contains(n)).Order(StringComparer.Ordinal).ToList();
        if (delete.Count > 0)
        {
            events.Add(new OutcomeEvent(false, "NodesLeft", $"{delete.Count} node(s) left the mesh: {string.Join(", ", delete.Take(10))}{(delete.Count > 10 ? ", ..." : "")}"));
        }

        var status = Status(mesh, plan, snapshot, reelect || (layout.Order > 1 && lastElection is null), conflicts, desired);
        var old = mesh.Status;
        if (old?.Nodes != status.Nodes || old?.Bridges != status.Bridges)
        {
            events.Add(new OutcomeEvent(false, "Planned", $"{status.Nodes} nodes in {status.SubMeshCount} sub-mesh(es), {status.Bridges} bridge role(s)"));
        }

        if (plan.Errors.Count > 0)
        {
            events.Add(new OutcomeEvent(true, "RangeExhausted", string.Join("; ", plan.Errors)));
        }

        return new MeshOutcome(true, desired, delete, status, events) { PodCidrs = podCidrs };
    }

    /// <summary>The spec and its policy checked and parsed; null when something is wrong (then <paramref name="errors"/> says what).</summary>
    private static CheckedMesh? CheckSpec(V1Alpha1Mesh mesh, V1Alpha1RandomizationPolicy? policyResource, IReadOnlyList<V1Alpha1Mesh> others, List<string> errors, List<OutcomeEvent> events)
    {
        var spec = mesh.Spec;
        var layout = MeshValidator.Validate(spec.ToCore());
        errors.AddRange(layout.Errors.Select(e => e.ToString()));
        events.AddRange(layout.Warnings.Select(w => new OutcomeEvent(true, "PrincipleWarning", w.ToString())));

        if (layout.Value is { } ranges)
        {
            errors.AddRange(Overlaps(mesh, ranges, others));
        }

        var reelection = Duration(spec.BridgeReelectionPeriod, "spec.bridgeReelectionPeriod", DefaultReelectionPeriod, errors);
        var hello = Duration(spec.Babel?.HelloInterval, "spec.babel.helloInterval", TimeSpan.FromSeconds(4), errors);
        _ = Duration(spec.Babel?.KeyRotationPeriod, "spec.babel.keyRotationPeriod", KeySecrets.DefaultRotation, errors);

        LabelSelector? selector = null;
        if (spec.NodeSelector is { } ns)
        {
            var checkedSelector = LabelSelector.Validate(ns.ToCore(), "spec.nodeSelector");
            errors.AddRange(checkedSelector.Errors.Select(e => e.ToString()));
            selector = checkedSelector.Value;
        }

        var technologies = spec.Technologies is { Count: > 0 } list
            ? list.ToCore()
            : TunnelTechnology.All;

        var policyName = spec.PolicyRef ?? V1Alpha1RandomizationPolicy.DefaultName;
        var policySpec = policyResource?.Spec ?? new PolicySpecResource();
        if (policyResource is null && spec.PolicyRef is not null)
        {
            errors.Add($"spec.policyRef: RandomizationPolicy '{spec.PolicyRef}' does not exist");
        }

        var policy = PolicyValidator.Validate(policySpec.ToCore());
        errors.AddRange(policy.Errors.Select(e => $"RandomizationPolicy {policyName}: {e}"));
        return errors.Count > 0 ? null : new CheckedMesh(layout.Value!, reelection, hello, selector, technologies, policySpec, policy.Value!);
    }

    private sealed record CheckedMesh(MeshLayout Layout, TimeSpan Reelection, TimeSpan Hello, LabelSelector? Selector, TunnelTechnology Technologies, PolicySpecResource PolicySpec, RandomizationPolicy Policy);

    /// <summary>
    /// A node's pod ranges go to Node.spec.podCIDRs, where Kubernetes and its tools read them, only
    /// when the node has none: Kubernetes never lets them change, and a range given by someone else
    /// (kube-controller-manager's --allocate-node-cidrs, another CNI) is reported, not overwritten.
    /// The node's pods still get re6st's ranges, the ones the mesh routes. An API server without
    /// dual-stack (Kubernetes 1.20 without the IPv6DualStack feature gate) keeps only the first
    /// range, the IPv4 one: that is re6st's too, not a conflict.
    /// </summary>
    private static void PodCidrsOf(V1Node node, PodRanges pods, List<NodePodCidrs> patches, List<string> conflicts)
    {
        var wanted = pods.ToPodCidrs();
        var current = node.Spec?.PodCIDRs is { Count: > 0 } list ? list : node.Spec?.PodCIDR is { Length: > 0 } one ? [one] : [];
        if (current.Count == 0)
        {
            patches.Add(new NodePodCidrs(node.Metadata.Name, wanted));
        }
        else if (current.Count > wanted.Count || !current.SequenceEqual(wanted.Take(current.Count), StringComparer.Ordinal))
        {
            conflicts.Add($"node {node.Metadata.Name} has podCIDRs {string.Join(",", current)} from elsewhere, not re6st's {string.Join(",", wanted)}");
        }
    }

    private static string PodRangeConflictMessage(List<string> conflicts) =>
        $"{string.Join("; ", conflicts.Take(5))}{(conflicts.Count > 5 ? $"; and {conflicts.Count - 5} more" : "")}. "
        + "Kubernetes does not let a node's podCIDRs change: turn off the other allocator (kube-controller-manager --allocate-node-cidrs=false) and re-register these nodes; "
        + "meanwhile their pods get re6st's ranges, which the mesh routes";

    /// <summary>
    /// The mesh's status: Planned says whether every selected node has its MeshNode; Ready whether
    /// every host is routed as its agent reports it (<see cref="HostRouting"/>), Progressing while
    /// hosts that are not yet routed are new (<see cref="HostRouting.ConvergeWithin"/>), Degraded
    /// with the hosts and why once one that is not new is not routed.
    /// </summary>
    private static MeshStatus Status(V1Alpha1Mesh mesh, MeshPlan plan, MeshSnapshot snapshot, bool elected, List<string> podConflicts, IReadOnlyList<V1Alpha1MeshNode> desired)
    {
        var tree = plan.Tree;
        var leaves = Enumerable.Range(tree.FirstLeaf, tree.LeafCount).Where(l => plan.CountUnder(l) > 0).ToList();
        var placed = Enumerable.Range(0, plan.NodeCount).Count(plan.IsPlaced);
        var generation = mesh.Metadata.Generation;
        var old = mesh.Status;
        var conditions = old?.Conditions;
        var now = new DateTimeOffset(DateTime.SpecifyKind(snapshot.Now, DateTimeKind.Utc));

        // The hosts as their agents report them: the existing MeshNodes (with their statuses) of the planned ones.
        var existing = snapshot.MeshNodes.ToDictionary(m => m.Metadata.Name, StringComparer.Ordinal);
        var hosts = desired.Select(d => existing.TryGetValue(d.Metadata.Name, out var e) ? e : d).ToList();
        var routing = HostRouting.Evaluate(hosts, now);
        var notRouted = hosts.Where(h => routing[h.Spec.Node] is not null).ToList();
        var late = notRouted.Where(h => !HostRouting.IsConverging(existing.GetValueOrDefault(h.Metadata.Name), now)).ToList();
        string Hosts(IReadOnlyList<V1Alpha1MeshNode> list) =>
            $"{string.Join("; ", list.Take(10).Select(h => $"{h.Spec.Node}: {routing[h.Spec.Node]}"))}{(list.Count > 10 ? $"; and {list.Count - 10} more" : "")}";

        if (plan.Errors.Count > 0)
        {
            var message = string.Join("; ", plan.Errors);
            conditions = Conditions.With(conditions, Conditions.Planned, false, "RangeExhausted", message, generation, snapshot.Now);
            conditions = Conditions.With(conditions, Conditions.Ready, false, "RangeExhausted", message, generation, snapshot.Now);
            conditions = Conditions.With(conditions, Conditions.Degraded, true, "RangeExhausted", message, generation, snapshot.Now);
            conditions = Conditions.With(conditions, Conditions.Progressing, false, "RangeExhausted", "", generation, snapshot.Now);
        }
        else
        {
            conditions = Conditions.With(conditions, Conditions.Planned, true, "Planned", $"{placed} node(s) planned in {leaves.Count} sub-mesh(es)", generation, snapshot.Now);
            conditions = notRouted.Count == 0
                ? Conditions.With(conditions, Conditions.Ready, true, "Routed", $"{hosts.Count} host(s) routed", generation, snapshot.Now)
                : Conditions.With(conditions, Conditions.Ready, false, late.Count > 0 ? "HostsNotRouted" : "Converging", $"{notRouted.Count} of {hosts.Count} host(s) not routed: {Hosts(notRouted)}", generation, snapshot.Now);
            conditions = notRouted.Count > late.Count
                ? Conditions.With(conditions, Conditions.Progressing, true, "Converging", $"{notRouted.Count - late.Count} new host(s) not routed yet", generation, snapshot.Now)
                : Conditions.With(conditions, Conditions.Progressing, false, notRouted.Count == 0 ? "Routed" : "HostsNotRouted", "", generation, snapshot.Now);
            conditions = podConflicts.Count > 0
                ? Conditions.With(conditions, Conditions.Degraded, true, "PodRangeConflict", PodRangeConflictMessage(podConflicts), generation, snapshot.Now)
                : late.Count > 0
                    ? Conditions.With(conditions, Conditions.Degraded, true, "HostsNotRouted", $"{late.Count} host(s) not routed {HostRouting.ConvergeWithin.TotalMinutes:0} minutes after they joined: {Hosts(late)}", generation, snapshot.Now)
                    : Conditions.With(conditions, Conditions.Degraded, false, "AsExpected", "", generation, snapshot.Now);
        }

        return new MeshStatus
        {
            ObservedGeneration = generation,
            Conditions = conditions,
            Nodes = placed,
            ReadyHosts = hosts.Count - notRouted.Count,
            Arrows = hosts.Sum(h => h.Status?.Arrows?.Count(a => a.Initiated) ?? 0),
            SubMeshCount = leaves.Count,
            Bridges = plan.Bridges.Count,
            SubMeshes = [.. leaves.Take(MaxListedSubMeshes).Select(l => new SubMeshStatus
            {
                Id = tree.IdOf(l),
                Ipv6Range = tree.Ipv6RangeOf(l).ToString(),
                Ipv4Range = tree.Ipv4RangeOf(l)?.ToString(),
                Members = plan.HomeMembers(l).Length,
                VisitingBridges = plan.Visitors(l).Length,
            })],
            SubMeshesTruncated = leaves.Count > MaxListedSubMeshes ? true : null,
            LastBridgeElection = elected ? snapshot.Now : old?.LastBridgeElection,
            KeySecret = snapshot.KeySecret,
        };
    }

    private static MeshStatus Failed(V1Alpha1Mesh mesh, string reason, string message, DateTime now)
    {
        var old = mesh.Status ?? new MeshStatus();
        var generation = mesh.Metadata.Generation;
        var conditions = Conditions.With(old.Conditions, Conditions.Planned, false, reason, message, generation, now);
        conditions = Conditions.With(conditions, Conditions.Ready, false, reason, message, generation, now);
        conditions = Conditions.With(conditions, Conditions.Degraded, true, reason, message, generation, now);
        conditions = Conditions.With(conditions, Conditions.Progressing, false, reason, "", generation, now);
        return new MeshStatus
        {
            ObservedGeneration = generation,
            Conditions = conditions,
            Nodes = old.Nodes,
            ReadyHosts = old.ReadyHosts,
            Arrows = old.Arrows,
            SubMeshCount = old.SubMeshCount,
            Bridges = old.Bridges,
            SubMeshes = old.SubMeshes,
            SubMeshesTruncated = old.SubMeshesTruncated,
            LastBridgeElection = old.LastBridgeElection,
            KeySecret = old.KeySecret,
        };
    }

    /// <summary>
    /// Two meshes must not share addresses. The older mesh keeps its range; the newer one (or the
    /// one with the greater name, on a tie) is the one reported.
    /// </summary>
    private static IEnumerable<string> Overlaps(V1Alpha1Mesh mesh, MeshLayout layout, IReadOnlyList<V1Alpha1Mesh> others)
    {
        foreach (var other in others)
        {
            if (other.Metadata.Name == mesh.Metadata.Name || !IsOlder(other, mesh))
            {
                continue;
            }

            if (IpPrefix.TryParse(other.Spec.Ipv6Range, out var v6, out _) && v6.Overlaps(layout.Ipv6Range))
            {
                yield return $"spec.ipv6Range: {layout.Ipv6Range} overlaps {v6} of mesh '{other.Metadata.Name}'";
            }

            if (layout.Ipv4Range is { } mine && IpPrefix.TryParse(other.Spec.Ipv4Range, out var v4, out _) && v4.Overlaps(mine))
            {
                yield return $"spec.ipv4Range: {mine} overlaps {v4} of mesh '{other.Metadata.Name}'";
            }
        }
    }

    private static bool IsOlder(V1Alpha1Mesh a, V1Alpha1Mesh b)
    {
        var ta = a.Metadata.CreationTimestamp ?? DateTime.MaxValue;
        var tb = b.Metadata.CreationTimestamp ?? DateTime.MaxValue;
        return ta != tb ? ta < tb : string.CompareOrdinal(a.Metadata.Name, b.Metadata.Name) < 0;
    }

    private static TimeSpan Duration(string? text, string path, TimeSpan fallback, List<string> errors)
    {
        if (text is null)
        {
            return fallback;
        }

        if (!GoDuration.TryParse(text, out var value, out var error))
        {
            errors.Add($"{path}: {error}");
            return fallback;
        }

        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{path}: must be positive (got {text})");
            return fallback;
        }

        return value;
    }
}
