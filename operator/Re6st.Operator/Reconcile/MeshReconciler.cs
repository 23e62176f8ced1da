using System.Net;
using System.Security.Cryptography;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Re6st.Contracts;
using Re6st.Core.Randomness;
using Re6st.Operator.Resources;
using Re6st.Operator.Runtime;

namespace Re6st.Operator.Reconcile;

/// <summary>
/// Applies <see cref="MeshPlanning"/>'s outcome: writes only the MeshNodes that differ, deletes
/// those of nodes that left, patches the status only when it changed. Level-triggered and
/// idempotent: a second pass over the same state writes nothing.
/// </summary>
public sealed partial class MeshReconciler(IKubernetes client, Caches caches, KeySecrets keys, EventRecorder events, OperatorOptions options, ILogger log, TimeProvider time, OperatorMetrics? metrics = null)
{
    /// <summary>Writes made by the passes completed since start (creates, replaces, deletes, status patches): tests and benchmarks read it.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <summary>Reconcile passes completed since start.</summary>
    public long Passes => Interlocked.Read(ref _passes);

    private long _writes;
    private long _passes;

    public async Task ReconcileAsync(string name, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var writes = new WriteCount();
        var ok = false;
        try
        {
            await OperatorTracing.TraceAsync("mesh", name, async () => (await PassAsync(name, writes, cancellationToken).ConfigureAwait(false), writes.Value)).ConfigureAwait(false);
            ok = true;
        }
        finally
        {
            Interlocked.Add(ref _writes, writes.Value);
            metrics?.Reconciled(name, time.GetElapsedTime(started), ok);
            metrics?.WritesTo(Writes);
        }
    }

    /// <summary>One pass; returns its outcome: planned, invalid (the status says why), deleted (the finalizer's work done) or gone.</summary>
    private async Task<string> PassAsync(string name, WriteCount writes, CancellationToken cancellationToken)
    {
        var mesh = caches.Meshes.Get(name);
        if (mesh is null)
        {
            metrics?.Forget(name);
            return "gone";
        }

        if (mesh.Metadata.DeletionTimestamp is not null)
        {
            await CleanUpAsync(mesh, writes, cancellationToken).ConfigureAwait(false);
            return "deleted";
        }

        if (mesh.Metadata.Finalizers?.Contains(Group.Finalizer) != true)
        {
            var finalizers = (mesh.Metadata.Finalizers ?? []).Append(Group.Finalizer).ToList();
            await PatchMeshAsync(name, new { metadata = new { finalizers } }, writes, cancellationToken).ConfigureAwait(false);
        }

        var keySecret = await keys.EnsureAsync(mesh, cancellationToken).ConfigureAwait(false);
        var snapshot = new MeshSnapshot(
            mesh,
            caches.Policies.Get(mesh.Spec.PolicyRef ?? V1Alpha1RandomizationPolicy.DefaultName),
            [.. caches.Nodes.Items],
            caches.MeshNodesOf(name),
            keySecret,
            time.GetUtcNow().UtcDateTime)
        {
            OtherMeshes = [.. caches.Meshes.Items],
        };

        // Production randomness: a fresh seed from the OS for every pass. Allocations are sticky,
        // so a pass with nothing new to decide gives the same result whatever the seed.
        MeshOutcome outcome;
        using (var plan = OperatorTracing.Source.StartActivity("re6st.mesh.plan"))
        {
            outcome = MeshPlanning.Compute(snapshot, new Xoshiro256StarStar(BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8))));
            plan?.SetTag("re6st.planned", outcome.Planned).SetTag("re6st.nodes", outcome.Status.Nodes);
        }

        if (outcome.Planned)
        {
            await ApplyAsync(outcome, writes, cancellationToken).ConfigureAwait(false);
        }

        if (!Same(mesh.Status, outcome.Status))
        {
            var patch = new V1Patch(new[] { new { op = "add", path = "/status", value = outcome.Status } }, V1Patch.PatchType.JsonPatch);
            await client.CustomObjects.PatchClusterCustomObjectStatusAsync(patch, Group.Name, Group.Version, V1Alpha1Mesh.Plural, name, cancellationToken: cancellationToken).ConfigureAwait(false);
            writes.Add();
        }

        foreach (var e in outcome.Events)
        {
            await events.RecordAsync(mesh, e, cancellationToken).ConfigureAwait(false);
        }

        Interlocked.Increment(ref _passes);
        metrics?.Observe(name, outcome.Status);
        LogReconciled(log, name, outcome.Desired.Count, outcome.Delete.Count);
        return outcome.Planned ? "planned" : "invalid";
    }

    private async Task ApplyAsync(MeshOutcome outcome, WriteCount writes, CancellationToken cancellationToken)
    {
        using var span = OperatorTracing.Source.StartActivity("re6st.mesh.apply")?.SetTag("re6st.meshnodes.desired", outcome.Desired.Count).SetTag("re6st.meshnodes.deleted", outcome.Delete.Count);
        await Parallel.ForEachAsync(
            outcome.Desired,
            new ParallelOptions { MaxDegreeOfParallelism = options.WriteParallelism, CancellationToken = cancellationToken },
            async (desired, ct) =>
            {
                var existing = caches.MeshNodes.Get(desired.Metadata.Name);
                if (existing is null)
                {
                    try
                    {
                        await client.CustomObjects.CreateClusterCustomObjectAsync(desired, Group.Name, Group.Version, V1Alpha1MeshNode.Plural, cancellationToken: ct).ConfigureAwait(false);
                        writes.Add();
                        return;
                    }
                    catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
                    {
                        // Created meanwhile (the cache lags the API server): compare with the server's copy.
                        existing = await client.CustomObjects.GetClusterCustomObjectAsync<V1Alpha1MeshNode>(Group.Name, Group.Version, V1Alpha1MeshNode.Plural, desired.Metadata.Name, ct).ConfigureAwait(false);
                    }
                }

                if (Same(existing.Spec, desired.Spec) && SameLabels(existing.Metadata.Labels, desired.Metadata.Labels))
                {
                    return;
                }

                desired.Metadata.ResourceVersion = existing.Metadata.ResourceVersion;
                desired.Metadata.Annotations = existing.Metadata.Annotations;
                await client.CustomObjects.ReplaceClusterCustomObjectAsync(desired, Group.Name, Group.Version, V1Alpha1MeshNode.Plural, desired.Metadata.Name, cancellationToken: ct).ConfigureAwait(false);
                writes.Add();
            }).ConfigureAwait(false);

        foreach (var gone in outcome.Delete)
        {
            await DeleteMeshNodeAsync(gone, writes, cancellationToken).ConfigureAwait(false);
        }

        foreach (var pods in outcome.PodCidrs)
        {
            await PatchPodCidrsAsync(pods, writes, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Gives a node its pod ranges (the outcome lists only nodes that have none yet).</summary>
    private async Task PatchPodCidrsAsync(NodePodCidrs pods, WriteCount writes, CancellationToken cancellationToken)
    {
        var patch = new V1Patch(new { spec = new { podCIDR = pods.Cidrs[0], podCIDRs = pods.Cidrs } }, V1Patch.PatchType.StrategicMergePatch);
        try
        {
            await client.CoreV1.PatchNodeAsync(patch, pods.Node, cancellationToken: cancellationToken).ConfigureAwait(false);
            writes.Add();
            LogPodCidrs(log, pods.Node, pods.Cidrs);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound)
        {
            // The Node left meanwhile: the next pass drops its MeshNode.
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.UnprocessableEntity or HttpStatusCode.Forbidden)
        {
            // Set by someone else meanwhile (the next pass reports the conflict), or refused: say why, keep going.
            LogPodCidrsRefused(log, pods.Node, pods.Cidrs, e.Response.Content);
        }
    }

    /// <summary>The finalizer's work: every MeshNode and the key Secret go before the Mesh does.</summary>
    private async Task CleanUpAsync(V1Alpha1Mesh mesh, WriteCount writes, CancellationToken cancellationToken)
    {
        var name = mesh.Metadata.Name;
        var list = await client.CustomObjects.ListClusterCustomObjectAsync<ResourceList<V1Alpha1MeshNode>>(
            Group.Name, Group.Version, V1Alpha1MeshNode.Plural, labelSelector: $"{Group.MeshLabel}={name}", cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (var mn in list.Items)
        {
            await DeleteMeshNodeAsync(mn.Metadata.Name, writes, cancellationToken).ConfigureAwait(false);
        }

        await keys.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
        if (mesh.Metadata.Finalizers?.Contains(Group.Finalizer) == true)
        {
            var finalizers = mesh.Metadata.Finalizers.Where(f => f != Group.Finalizer).ToList();
            await PatchMeshAsync(name, new { metadata = new { finalizers, resourceVersion = mesh.Metadata.ResourceVersion } }, writes, cancellationToken).ConfigureAwait(false);
        }

        LogCleanedUp(log, name, list.Items.Count);
    }

    private async Task DeleteMeshNodeAsync(string name, WriteCount writes, CancellationToken cancellationToken)
    {
        try
        {
            await client.CustomObjects.DeleteClusterCustomObjectAsync(Group.Name, Group.Version, V1Alpha1MeshNode.Plural, name, cancellationToken: cancellationToken).ConfigureAwait(false);
            writes.Add();
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }

    private async Task PatchMeshAsync(string name, object body, WriteCount writes, CancellationToken cancellationToken)
    {
        await client.CustomObjects.PatchClusterCustomObjectAsync(new V1Patch(body, V1Patch.PatchType.MergePatch), Group.Name, Group.Version, V1Alpha1Mesh.Plural, name, cancellationToken: cancellationToken).ConfigureAwait(false);
        writes.Add();
    }

    public static bool Same<TValue>(TValue? a, TValue? b) =>
        a is null || b is null ? a is null && b is null : KubernetesJson.Serialize(a) == KubernetesJson.Serialize(b);

    /// <summary>Same keys with the same values (order does not matter).</summary>
    public static bool SameLabels(IDictionary<string, string>? a, IDictionary<string, string>? b) =>
        (a?.Count ?? 0) == (b?.Count ?? 0) && (a is null || a.All(kv => b!.TryGetValue(kv.Key, out var v) && v == kv.Value));

    /// <summary>The writes of one pass (its MeshNode writes run in parallel).</summary>
    private sealed class WriteCount
    {
        private int _value;

        public int Value => Volatile.Read(ref _value);

        public void Add() => Interlocked.Increment(ref _value);
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Debug, Message = "mesh {Mesh}: {Desired} MeshNodes planned, {Deleted} deleted")]
    private static partial void LogReconciled(ILogger log, string mesh, int desired, int deleted);

    [LoggerMessage(EventId = 202, Level = LogLevel.Information, Message = "node {Node}: pod ranges {Cidrs} written to spec.podCIDRs")]
    private static partial void LogPodCidrs(ILogger log, string node, IReadOnlyList<string> cidrs);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "node {Node}: the API server refused pod ranges {Cidrs}: {Reason}")]
    private static partial void LogPodCidrsRefused(ILogger log, string node, IReadOnlyList<string> cidrs, string reason);

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "mesh {Mesh} deleted: removed {Count} MeshNodes and its key Secret")]
    private static partial void LogCleanedUp(ILogger log, string mesh, int count);
}
