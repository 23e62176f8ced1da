using System.Globalization;
using Re6st.Contracts;
using Re6st.Core.Policy;
using Re6st.Operator.Reconcile;
using Re6st.Operator.Resources;

namespace Re6st.Operator.Health;

public enum Outcome
{
    Pass,
    Warn,
    Fail,
}

/// <summary>One item of <c>re6st check</c>: what was checked, how it went, why, and what to look at.</summary>
/// <param name="Hosts">The hosts the item names (those at fault).</param>
public sealed record CheckItem(string Name, Outcome Outcome, string Reason, string? Look = null, IReadOnlyList<string>? Hosts = null)
{
    public override string ToString() =>
        $"{Outcome switch { Outcome.Pass => "pass", Outcome.Warn => "warn", _ => "FAIL" }}  {Name}: {Reason}{(Look is null ? "" : $"\n      look at: {Look}")}";
}

/// <summary>
/// What <c>re6st check</c> says of an installation: each item pass, warn or fail, with the reason
/// and what to look at. A pure function of a <see cref="ClusterView"/>.
/// </summary>
public static class InstallationCheck
{
    /// <summary>How far an agent's clock may be from the API server's before check warns.</summary>
    public const int MaxClockOffsetSeconds = 2;

    /// <summary>
    /// How long past its rotation period a signing key may still sign before check warns: the
    /// operator rotates it at the mesh's next reconcile, which its resync (5 min) bounds.
    /// </summary>
    public static readonly TimeSpan KeyRotationSlack = TimeSpan.FromMinutes(10);

    public static IReadOnlyList<CheckItem> Run(ClusterView view, string installNamespace)
    {
        ArgumentNullException.ThrowIfNull(view);
        var items = new List<CheckItem> { Crds(view), Operator(view, installNamespace) };
        if (view.Meshes.Count == 0)
        {
            items.Add(new CheckItem("meshes", Outcome.Warn, "no Mesh exists: nothing is meshed", "kubectl apply -f a Mesh (config/samples/), or the chart's meshes value"));
        }

        foreach (var mesh in view.Meshes.OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            items.AddRange(MeshItems(view, mesh, installNamespace));
        }

        return items;
    }

    private static CheckItem Crds(ClusterView view)
    {
        var missing = view.Crds.Where(c => !c.Installed).Select(c => c.Name).ToList();
        if (missing.Count > 0)
        {
            return new CheckItem("crds", Outcome.Fail, $"not installed: {string.Join(", ", missing)}", "helm install re6st helm/re6st, or kubectl apply -f helm/re6st/crds/");
        }

        var different = view.Crds.Where(c => c.Difference is not null).ToList();
        return different.Count > 0
            ? new CheckItem("crds", Outcome.Warn, $"installed, but not this re6st's: {string.Join("; ", different.Select(c => $"{c.Name} ({c.Difference})"))}", "helm upgrade leaves CRDs as they are: kubectl apply -f helm/re6st/crds/")
            : new CheckItem("crds", Outcome.Pass, $"{view.Crds.Count} installed, the same as this re6st's");
    }

    private static CheckItem Operator(ClusterView view, string installNamespace)
    {
        var look = $"kubectl -n {installNamespace} get pods -l app.kubernetes.io/component=operator; kubectl -n {installNamespace} logs deploy/<release>-operator";
        var ready = view.OperatorPods.Count(p => p.Ready);
        var pods = view.OperatorPods.Count == 0 ? "" : $"; {ready} of {view.OperatorPods.Count} operator pod(s) ready";
        if (view.Lease is { Holder: { Length: > 0 } holder, Renewed: { } renewed } lease)
        {
            var age = view.Now - renewed;
            if (age <= lease.Duration)
            {
                return new CheckItem("operator", Outcome.Pass, $"led by {holder} (Lease {lease.Namespace}/{lease.Name} renewed {Seconds(age)} ago){pods}");
            }

            return new CheckItem("operator", Outcome.Fail, $"no replica leads: Lease {lease.Namespace}/{lease.Name} last renewed by {holder} {Seconds(age)} ago, past its {Seconds(lease.Duration)}{pods}", look);
        }

        return view.OperatorPods.Count == 0
            ? new CheckItem("operator", Outcome.Fail, $"no operator found: no Lease {installNamespace}/re6st-operator and no operator pod", look)
            : new CheckItem("operator", Outcome.Fail, $"no replica leads: no Lease {installNamespace}/re6st-operator{pods}", look);
    }

    private static IEnumerable<CheckItem> MeshItems(ClusterView view, MeshView mesh, string installNamespace)
    {
        var name = $"mesh {mesh.Name}";
        var report = MeshReport.Build(mesh, view.Now);
        var hosts = report.Hosts;
        var logs = $"kubectl -n {installNamespace} logs <the host's agent pod>";

        // The operator's part: the mesh is planned, its policy exists and is valid.
        var planned = mesh.Mesh.Status?.Conditions?.FirstOrDefault(c => c.Type == Conditions.Planned);
        yield return planned is { Status: "True" }
            ? new CheckItem($"{name}: planned", Outcome.Pass, $"{hosts.Count} host(s), order {report.Order}, {report.SubMeshes} sub-mesh(es)")
            : new CheckItem($"{name}: planned", Outcome.Fail, planned is null ? "the operator has not planned it (no Planned condition)" : $"{planned.Reason}: {planned.Message}", $"kubectl describe mesh {mesh.Name}");
        // As the operator reads it (MeshPlanning): a mesh that names no policy and finds no
        // 'default' runs on the built-in defaults; one that names a missing policy is not planned.
        RandomizationPolicy? running = null;
        if (mesh.Policy is null && mesh.Mesh.Spec.PolicyRef is not null)
        {
            yield return new CheckItem($"{name}: policy", Outcome.Fail, $"RandomizationPolicy '{mesh.PolicyName}' does not exist", $"kubectl get randomizationpolicies; the mesh's spec.policyRef");
        }
        else
        {
            var policy = mesh.Policy is null ? "the built-in defaults" : mesh.PolicyName;
            var checkedPolicy = PolicyValidator.Validate((mesh.Policy?.Spec ?? new PolicySpecResource()).ToCore());
            running = checkedPolicy.Errors.Count == 0 ? checkedPolicy.Value : null;
            yield return checkedPolicy.Errors.Count > 0
                ? new CheckItem($"{name}: policy", Outcome.Fail, $"{policy}: {string.Join("; ", checkedPolicy.Errors)}", $"re6st lint on the policy's file")
                : checkedPolicy.Warnings.Count > 0
                    ? new CheckItem($"{name}: policy", Outcome.Warn, $"{policy}: {string.Join("; ", checkedPolicy.Warnings)}")
                    : new CheckItem($"{name}: policy", Outcome.Pass, $"{policy}: valid, no principle warning");
        }

        if (hosts.Count == 0)
        {
            yield break;
        }

        // An agent on every host: a status written within StatusHeartbeat.StaleAfter.
        var silent = hosts.Where(h => h.Stale).ToList();
        yield return silent.Count == 0
            ? new CheckItem($"{name}: agents", Outcome.Pass, $"every host's agent wrote its status within {Seconds(StatusHeartbeat.StaleAfter)} (oldest {Seconds(hosts.Max(h => h.HeartbeatAge!.Value))} ago)")
            : new CheckItem(
                $"{name}: agents",
                Outcome.Fail,
                $"{silent.Count} of {hosts.Count} host(s) with no recent status: {string.Join(", ", silent.Select(h => $"{h.Host} ({Silence(h)})"))}; an agent writes at least every {Seconds(StatusHeartbeat.Interval)}: it is stopped, hung or cut off from the API server",
                logs,
                [.. silent.Select(h => h.Host)]);

        // A pod of the agent on each host, when the agents run as pods.
        if (view.AgentPods.Count > 0)
        {
            var readyOn = view.AgentPods.Where(p => p.Ready && p.Node is not null).Select(p => p.Node!).ToHashSet(StringComparer.Ordinal);
            var without = hosts.Where(h => !readyOn.Contains(h.Host)).Select(h => h.Host).ToList();
            yield return without.Count == 0
                ? new CheckItem($"{name}: agent pods", Outcome.Pass, $"a ready agent pod on each of the {hosts.Count} host(s)")
                : new CheckItem($"{name}: agent pods", Outcome.Fail, $"no ready agent pod on {string.Join(", ", without)}", $"kubectl -n {installNamespace} get pods -l app.kubernetes.io/component=agent -o wide", without);
        }

        // babeld answers its agent (the status carries a route count only then).
        var live = hosts.Where(h => !h.Stale).ToList();
        var noBabel = live.Where(h => h.Routes is null).Select(h => h.Host).ToList();
        yield return noBabel.Count == 0
            ? new CheckItem($"{name}: babeld", Outcome.Pass, $"babeld answers on each of the {live.Count} live host(s)")
            : new CheckItem($"{name}: babeld", Outcome.Fail, $"babeld does not answer its agent on {string.Join(", ", noBabel)}", logs, noBabel);

        // Clocks: a heartbeat's age and a hand-over's deadline are written by one host's clock and
        // read by another's (or the reader's), so clocks more than a couple of seconds apart misjudge them.
        var liveNames = live.Select(h => h.Host).ToHashSet(StringComparer.Ordinal);
        var clocks = mesh.Nodes
            .Where(n => liveNames.Contains(n.Spec.Node) && n.Status?.ClockOffsetSeconds is not null)
            .Select(n => (Host: n.Spec.Node, Offset: n.Status!.ClockOffsetSeconds!.Value))
            .ToList();
        if (clocks.Count > 0)
        {
            var off = clocks.Where(c => Math.Abs(c.Offset) > MaxClockOffsetSeconds).ToList();
            yield return off.Count == 0
                ? new CheckItem($"{name}: clocks", Outcome.Pass, $"each of {clocks.Count} agent(s) within {MaxClockOffsetSeconds} s of the API server's clock (largest offset {clocks.Max(c => Math.Abs(c.Offset))} s)")
                : new CheckItem(
                    $"{name}: clocks",
                    Outcome.Warn,
                    $"clocks more than {MaxClockOffsetSeconds} s from the API server's: {string.Join(", ", off.Select(c => $"{c.Host} ({(c.Offset > 0 ? "behind" : "ahead")} by {Math.Abs(c.Offset)} s)"))}; heartbeats and hand-over deadlines are read across clocks",
                    "the host's time synchronisation (chronyc tracking, timedatectl)",
                    [.. off.Select(c => c.Host)]);
        }

        foreach (var item in KeyItems(name, mesh, liveNames, view.Now, installNamespace))
        {
            yield return item;
        }

        // Every host with arrows, and no part of the mesh cut off from the rest.
        if (hosts.Count > 1)
        {
            var without = report.WithoutArrows;
            yield return without.Count == 0
                ? new CheckItem($"{name}: arrows", Outcome.Pass, $"every host has arrows ({report.Arrows} in all, {report.Draining} draining)")
                : new CheckItem($"{name}: arrows", Outcome.Fail, $"{without.Count} host(s) without any arrow, cut off from the mesh: {string.Join(", ", without)}", logs, without);

            var parts = Parts(hosts);
            yield return parts.Count <= 1
                ? new CheckItem($"{name}: partition", Outcome.Pass, "the arrows join every host into one mesh")
                : new CheckItem(
                    $"{name}: partition",
                    Outcome.Fail,
                    $"the arrows split the mesh into {parts.Count} parts: {string.Join(" | ", parts.Select(p => string.Join(", ", p)))}",
                    "re6st status; the agents' logs on the smaller part's hosts",
                    [.. parts.Skip(1).SelectMany(p => p)]);
        }

        // Each live host holds a route to every live host homed in its sub-meshes (HostRouting).
        var short_ = live.Where(h => h.Routes is { } r && r < h.Peers).ToList();
        yield return short_.Count == 0
            ? new CheckItem($"{name}: routes", Outcome.Pass, $"each host holds a route to every live host homed in its sub-meshes; {report.RoutesMean:0.#} routes per host on average (K·N^(1/K) = {report.RoutesExpected:0.#})")
            : new CheckItem($"{name}: routes", Outcome.Warn, $"fewer routes than live hosts homed in their sub-meshes on {string.Join(", ", short_.Select(h => $"{h.Host} ({h.Routes} < {h.Peers})"))}: still converging, or cut off from part of the mesh", logs, [.. short_.Select(h => h.Host)]);

        // The principles at work, audited from the agents' counters.
        if (running is not null)
        {
            foreach (var item in PrincipleAudit.Run(name, mesh.Nodes, running, view.Now))
            {
                yield return item;
            }
        }

        // Hand-overs: a deadline long past means an agent that handed over and never came back.
        var handingOver = hosts.Where(h => h.HandsOver).Select(h => h.Host).ToList();
        if (handingOver.Count > 0)
        {
            yield return new CheckItem($"{name}: hand-overs", Outcome.Warn, $"handing over to its next run: {string.Join(", ", handingOver)} (peers stand in meanwhile)", $"kubectl -n {installNamespace} get pods -l app.kubernetes.io/component=agent", handingOver);
        }
    }

    /// <summary>
    /// The mesh's Babel key: its Secret holds the key that signs, that key is younger than the
    /// rotation period (plus <see cref="KeyRotationSlack"/>), and every live host signs with it.
    /// </summary>
    private static IEnumerable<CheckItem> KeyItems(string name, MeshView mesh, HashSet<string> live, DateTimeOffset now, string installNamespace)
    {
        if (mesh.Key is not { } key)
        {
            yield break;
        }

        var look = $"kubectl -n {installNamespace} logs deploy/<release>-operator (the operator makes and rotates the key)";
        if (key.Unreadable is { } why)
        {
            yield return new CheckItem($"{name}: key", Outcome.Warn, $"cannot read its key Secret {key.Secret} ({why}): the key's age and the hosts' keys go unchecked", $"kubectl auth can-i get secrets -n {MeshNodeBabel.SecretOf(key.Secret)?.Namespace ?? installNamespace}");
            yield break;
        }

        if (!key.Exists)
        {
            yield return new CheckItem($"{name}: key", Outcome.Fail, $"its key Secret {key.Secret} does not exist: a starting agent waits for it, and babeld signs with nothing newer", look);
            yield break;
        }

        if (key.SigningKey is not { } signing || !key.Keys.Contains(signing, StringComparer.Ordinal))
        {
            yield return new CheckItem($"{name}: key", Outcome.Fail, $"{key.Secret} names no signing key it holds (annotation {Group.SigningKeyAnnotation}: {key.SigningKey ?? "none"}; keys: {(key.Keys.Count == 0 ? "none" : string.Join(", ", key.Keys))})", look);
            yield break;
        }

        var rotation = KeySecrets.RotationOf(mesh.Mesh);
        var made = KeySecrets.CreatedAt(signing);
        var age = made is { } m ? now - m : (TimeSpan?)null;
        yield return age is { } a && a <= rotation + KeyRotationSlack
            ? new CheckItem($"{name}: key", Outcome.Pass, $"{signing} signs, made {Span(a)} ago; rotated every {Span(rotation)} (next in {Span(rotation - a < TimeSpan.Zero ? TimeSpan.Zero : rotation - a)}); {key.Keys.Count} key(s) accepted")
            : new CheckItem(
                $"{name}: key",
                Outcome.Warn,
                age is { } overdue
                    ? $"{signing} has signed for {Span(overdue)}, past the rotation period {Span(rotation)} (spec.babel.keyRotationPeriod): the operator has not rotated it"
                    : $"the signing key's id '{signing}' does not say when it was made: the operator replaces it at its next reconcile",
                look);

        // Which key each live host's babeld signs with (hosts whose agent does not say are left out).
        var signs = mesh.Nodes
            .Where(n => live.Contains(n.Spec.Node) && n.Status?.SigningKey is not null)
            .Select(n => (Host: n.Spec.Node, Key: n.Status!.SigningKey!))
            .OrderBy(h => h.Host, StringComparer.Ordinal)
            .ToList();
        if (signs.Count == 0)
        {
            yield break;
        }

        var unknown = signs.Where(h => !key.Keys.Contains(h.Key, StringComparer.Ordinal)).ToList();
        var behind = signs.Where(h => h.Key != signing && key.Keys.Contains(h.Key, StringComparer.Ordinal)).ToList();
        var logs = $"kubectl -n {installNamespace} logs <the host's agent pod>";
        if (unknown.Count > 0)
        {
            yield return new CheckItem($"{name}: host keys", Outcome.Fail, $"signing with a key the mesh no longer holds: {string.Join(", ", unknown.Select(h => $"{h.Host} ({h.Key})"))}; every neighbour drops their Babel packets", logs, [.. unknown.Select(h => h.Host)]);
        }
        else if (behind.Count > 0)
        {
            yield return new CheckItem(
                $"{name}: host keys",
                Outcome.Warn,
                $"still signing with an older key while {signing} signs: {string.Join(", ", behind.Select(h => $"{h.Host} ({h.Key})"))}; babeld 1.12 checks a packet against its interface's one key, so they have no adjacency with the hosts on {signing} until their agents restart babeld on it",
                logs,
                [.. behind.Select(h => h.Host)]);
        }
        else
        {
            var silent = live.Count - signs.Count;
            yield return new CheckItem($"{name}: host keys", Outcome.Pass, $"each of the {signs.Count} live host(s) signs with {signing}{(silent > 0 ? $" ({silent} do not say which key)" : "")}");
        }
    }

    /// <summary>"3 d", "5 h", "12 min", "40 s".</summary>
    private static string Span(TimeSpan span) => span switch
    {
        { TotalDays: >= 2 } => $"{Math.Floor(span.TotalDays).ToString(CultureInfo.InvariantCulture)} d",
        { TotalHours: >= 2 } => $"{Math.Floor(span.TotalHours).ToString(CultureInfo.InvariantCulture)} h",
        { TotalMinutes: >= 2 } => $"{Math.Floor(span.TotalMinutes).ToString(CultureInfo.InvariantCulture)} min",
        _ => Seconds(span),
    };

    /// <summary>The hosts in groups the arrows join (an arrow listed at either end joins its two hosts), the largest first.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> Parts(IReadOnlyList<HostReport> hosts)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        var names = hosts.Select(h => h.Host).ToHashSet(StringComparer.Ordinal);
        var links = names.ToDictionary(n => n, _ => new HashSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var host in hosts)
        {
            foreach (var peer in host.ArrowPeers.Where(names.Contains))
            {
                links[host.Host].Add(peer);
                links[peer].Add(host.Host);
            }
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var parts = new List<IReadOnlyList<string>>();
        foreach (var start in names.Order(StringComparer.Ordinal))
        {
            if (!seen.Add(start))
            {
                continue;
            }

            var part = new List<string>();
            var queue = new Queue<string>([start]);
            while (queue.TryDequeue(out var host))
            {
                part.Add(host);
                foreach (var next in links[host].Where(seen.Add))
                {
                    queue.Enqueue(next);
                }
            }

            parts.Add([.. part.Order(StringComparer.Ordinal)]);
        }

        return [.. parts.OrderByDescending(p => p.Count).ThenBy(p => p[0], StringComparer.Ordinal)];
    }

    private static string Silence(HostReport host) => host switch
    {
        { HasStatus: false } => "its agent never wrote a status",
        { HeartbeatAge: null } => "no heartbeat in its status",
        _ => $"last {Seconds(host.HeartbeatAge!.Value)} ago",
    };

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString(span.TotalSeconds < 10 ? "0.#" : "0", CultureInfo.InvariantCulture) + " s";
}
