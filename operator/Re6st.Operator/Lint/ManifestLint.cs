using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Re6st.Contracts;
using Re6st.Core.Policy;
using Re6st.Operator.Crds;
using Re6st.Operator.Reconcile;
using Re6st.Operator.Resources;

namespace Re6st.Operator.Lint;

public enum LintSeverity
{
    Error,
    Warning,
}

/// <summary>One thing <c>re6st lint</c> found: in which file, on which object, and the field with the reason.</summary>
public sealed record LintFinding(string File, string Resource, LintSeverity Severity, string Message)
{
    public override string ToString() => $"{File}: {Resource}: {(Severity == LintSeverity.Error ? "error" : "warning")}: {Message}";
}

/// <summary>
/// The checks a re6st resource meets on its way into a cluster, run on files before they are
/// applied: first the CRD's schema, as the API server applies it (the schema is generated from the
/// same types, <see cref="CrdGenerator"/>), then what the operator checks before it plans
/// (<see cref="MeshPlanning.Check"/>, <see cref="PolicyValidator"/>), with the principle warnings.
/// Objects of other kinds are left alone.
/// </summary>
public static class ManifestLint
{
    private static readonly Dictionary<string, V1CustomResourceDefinition> Crds =
        CrdGenerator.All().ToDictionary(c => c.Spec.Names.Kind, StringComparer.Ordinal);

    /// <param name="files">Each file's name (as it is to be reported) and text; a file may hold several YAML or JSON documents.</param>
    public static IReadOnlyList<LintFinding> Run(IReadOnlyList<(string File, string Text)> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var findings = new List<LintFinding>();
        var objects = new List<(string File, string Object, string Kind, JsonObject Json)>();
        foreach (var (file, text) in files)
        {
            IReadOnlyList<JsonNode?> documents;
            try
            {
                documents = YamlDocuments.Parse(text);
            }
            catch (FormatException e)
            {
                findings.Add(new LintFinding(file, "(file)", LintSeverity.Error, e.Message));
                continue;
            }

            for (var i = 0; i < documents.Count; i++)
            {
                if (documents[i] is not JsonObject json || (string?)json["apiVersion"] is not { } apiVersion || (string?)json["kind"] is not { } kind)
                {
                    continue;
                }

                if (apiVersion.StartsWith(Group.Name + "/", StringComparison.Ordinal) && apiVersion != Group.ApiVersion)
                {
                    findings.Add(new LintFinding(file, $"{kind} (document {i + 1})", LintSeverity.Error, $"apiVersion: {apiVersion} is not served; use {Group.ApiVersion}"));
                    continue;
                }

                if (apiVersion != Group.ApiVersion || !Crds.TryGetValue(kind, out var crd))
                {
                    continue;
                }

                var name = (string?)json["metadata"]?["name"];
                var label = name is { Length: > 0 } ? $"{kind}/{name}" : $"{kind} (document {i + 1})";
                var errors = new List<string>();
                var warnings = new List<string>();
                if (name is not { Length: > 0 })
                {
                    errors.Add("metadata.name: Required value");
                }

                SchemaCheck.Validate(json, crd.Spec.Versions[0].Schema.OpenAPIV3Schema, "", errors, warnings);
                findings.AddRange(errors.Select(e => new LintFinding(file, label, LintSeverity.Error, e)));
                findings.AddRange(warnings.Select(w => new LintFinding(file, label, LintSeverity.Warning, w)));
                if (errors.Count == 0)
                {
                    objects.Add((file, label, kind, json));
                }
            }
        }

        var meshes = objects.Where(o => o.Kind == V1Alpha1Mesh.KindName).Select(o => (o.File, o.Object, Mesh: KubernetesJson.Deserialize<V1Alpha1Mesh>(o.Json.ToJsonString()))).ToList();
        var policies = objects.Where(o => o.Kind == V1Alpha1RandomizationPolicy.KindName).Select(o => (o.File, o.Object, Policy: KubernetesJson.Deserialize<V1Alpha1RandomizationPolicy>(o.Json.ToJsonString()))).ToList();
        foreach (var (file, label, policy) in policies)
        {
            var result = PolicyValidator.Validate(policy.Spec.ToCore());
            findings.AddRange(result.Errors.Select(e => new LintFinding(file, label, LintSeverity.Error, e.ToString())));
            findings.AddRange(result.Warnings.Select(w => new LintFinding(file, label, LintSeverity.Warning, w.ToString())));
        }

        var byName = policies.GroupBy(p => p.Policy.Metadata.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Policy, StringComparer.Ordinal);
        var others = meshes.Select(m => m.Mesh).ToList();
        foreach (var (file, label, mesh) in meshes)
        {
            var policyName = mesh.Spec.PolicyRef ?? V1Alpha1RandomizationPolicy.DefaultName;
            var policy = byName.GetValueOrDefault(policyName);
            var (errors, warnings) = MeshPlanning.Check(mesh, policy, others);
            foreach (var error in errors)
            {
                if (error.StartsWith("spec.policyRef: ", StringComparison.Ordinal) && policy is null)
                {
                    // The operator looks for it in the cluster, which a file cannot show.
                    findings.Add(new LintFinding(file, label, LintSeverity.Warning, $"spec.policyRef: RandomizationPolicy '{policyName}' is not among the files given: the mesh is Degraded unless the cluster has it"));
                }
                else if (!error.StartsWith("RandomizationPolicy ", StringComparison.Ordinal))
                {
                    // A policy's own errors are reported on the policy, once.
                    findings.Add(new LintFinding(file, label, LintSeverity.Error, error));
                }
            }

            findings.AddRange(warnings.Select(w => new LintFinding(file, label, LintSeverity.Warning, w.Message)));
        }

        return findings;
    }
}
