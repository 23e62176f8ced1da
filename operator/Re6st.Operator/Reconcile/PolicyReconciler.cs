using k8s;
using k8s.Models;
using Re6st.Contracts;
using Re6st.Core.Policy;
using Re6st.Operator.Resources;
using Re6st.Operator.Runtime;

namespace Re6st.Operator.Reconcile;

/// <summary>A RandomizationPolicy's status: valid or not (every error with its field), and the principle warnings.</summary>
public sealed class PolicyReconciler(IKubernetes client, Caches caches, EventRecorder events, TimeProvider time)
{
    public Task ReconcileAsync(string name, CancellationToken cancellationToken) =>
        OperatorTracing.TraceAsync("policy", name, () => PassAsync(name, cancellationToken));

    /// <summary>One pass; returns its outcome (valid, invalid or gone) and whether it patched the status.</summary>
    private async Task<(string Outcome, int Writes)> PassAsync(string name, CancellationToken cancellationToken)
    {
        var policy = caches.Policies.Get(name);
        if (policy is null || policy.Metadata.DeletionTimestamp is not null)
        {
            return ("gone", 0);
        }

        var result = PolicyValidator.Validate(policy.Spec.ToCore());
        var outcome = result.IsValid ? "valid" : "invalid";
        var now = time.GetUtcNow().UtcDateTime;
        var generation = policy.Metadata.Generation;
        var errors = string.Join("; ", result.Errors);
        var conditions = Conditions.With(policy.Status?.Conditions, Conditions.Ready, result.IsValid, result.IsValid ? "Valid" : "InvalidSpec", result.IsValid ? "" : errors, generation, now);
        conditions = Conditions.With(conditions, Conditions.Degraded, !result.IsValid, result.IsValid ? "AsExpected" : "InvalidSpec", errors, generation, now);
        var status = new PolicyStatus
        {
            ObservedGeneration = generation,
            Conditions = conditions,
            Warnings = result.Warnings.Count == 0 ? null : [.. result.Warnings.Select(w => w.ToString())],
            WarningCount = result.Warnings.Count,
        };
        if (MeshReconciler.Same(status, policy.Status))
        {
            return (outcome, 0);
        }

        var patch = new V1Patch(new[] { new { op = "add", path = "/status", value = status } }, V1Patch.PatchType.JsonPatch);
        await client.CustomObjects.PatchClusterCustomObjectStatusAsync(patch, Group.Name, Group.Version, V1Alpha1RandomizationPolicy.Plural, name, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!result.IsValid)
        {
            await events.RecordAsync(policy, new OutcomeEvent(true, "InvalidSpec", errors), cancellationToken).ConfigureAwait(false);
        }

        foreach (var w in result.Warnings)
        {
            await events.RecordAsync(policy, new OutcomeEvent(true, "PrincipleWarning", w.ToString()), cancellationToken).ConfigureAwait(false);
        }

        return (outcome, 1);
    }
}
