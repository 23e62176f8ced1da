using Re6st.Operator.Lint;
using Re6st.Testing;

namespace Re6st.Operator.Tests;

/// <summary>
/// <c>re6st lint</c>'s engine on the corpus of bad input that the integration tier sends to a real
/// API server and operator: it must name the same field (and, for the operator's checks, give the
/// same reason) before anything is applied.
/// </summary>
public sealed class ManifestLintTests
{
    public static TheoryData<string, string, string, string> RejectedByTheApiServer => BadInputCorpus.Theory(BadInputCorpus.RejectedByTheApiServer);

    public static TheoryData<string, string, string, string> DegradedByTheOperator => BadInputCorpus.Theory(BadInputCorpus.DegradedByTheOperator);

    [Theory]
    [MemberData(nameof(RejectedByTheApiServer))]
    public void WhatTheApiServerRefuses_IsAnError_OnTheSameField(string @case, string plural, string spec, string field)
    {
        var kind = plural == "meshes" ? "Mesh" : "RandomizationPolicy";
        var findings = Lint(Document(kind, "bad", spec));

        Assert.True(findings.Any(f => f.Severity == LintSeverity.Error && f.Message.StartsWith(field, StringComparison.Ordinal)), $"{@case}: no error on {field}:\n{string.Join('\n', findings)}");
    }

    [Theory]
    [MemberData(nameof(DegradedByTheOperator))]
    public void WhatTheOperatorRefuses_IsReportedOnTheSameField_WithTheSameReason(string @case, string spec, string field, string reason)
    {
        var findings = Lint(Document("Mesh", "bad", spec.Replace("RANGE", "fd5e:f9::/48", StringComparison.Ordinal)));

        // A file cannot show what the cluster holds: a policy missing from the files is a warning.
        var severity = field == "spec.policyRef" ? LintSeverity.Warning : LintSeverity.Error;
        Assert.True(
            findings.Any(f => f.Severity == severity && f.Message.StartsWith(field, StringComparison.Ordinal) && f.Message.Contains(reason.Replace(" does not exist", "", StringComparison.Ordinal), StringComparison.Ordinal)),
            $"{@case}: no {severity} on {field} saying '{reason}':\n{string.Join('\n', findings)}");
    }

    [Fact]
    public void TheSamples_HaveNoError()
    {
        var folder = Repository.PathOf("config", "samples");
        var files = Directory.EnumerateFiles(folder, "*.yaml").Select(f => (f, File.ReadAllText(f))).ToList();
        Assert.NotEmpty(files);

        var findings = ManifestLint.Run(files);

        Assert.DoesNotContain(findings, f => f.Severity == LintSeverity.Error);
    }

    [Fact]
    public void YamlIsTypedAsKubectlTypesIt_AQuotedNumberIsAString_AndAnUnknownFieldIsAWarning()
    {
        var findings = Lint("""
            apiVersion: re6st.io/v1alpha1
            kind: Mesh
            metadata:
              name: typed
            spec:
              ipv6Range: fd5e:f9::/48
              bridgeShare: "0.5"
              podNetwork:
                enabled: yes
              techologies: [wireguard]
            """);

        var error = Assert.Single(findings, f => f.Severity == LintSeverity.Error);
        Assert.Equal("spec.bridgeShare: must be a number, not the string \"0.5\"", error.Message);
        var warning = Assert.Single(findings, f => f.Severity == LintSeverity.Warning);
        Assert.Equal("spec.techologies: unknown field, which the API server drops", warning.Message);
        Assert.Equal(("f.yaml", "Mesh/typed"), (warning.File, warning.Resource));
    }

    [Fact]
    public void APolicysErrors_AreReportedOnThePolicyOnce_AndOverlappingMeshesOnTheOneThatLoses()
    {
        var findings = Lint(
            Document("RandomizationPolicy", "strict", """{"destroyShare":0.2,"arrowsPerNode":2,"technologyRules":[{"technology":"openvpn","denyWhen":{"matchLabels":{"bad key!":"x"}}}]}"""),
            Document("Mesh", "a", """{"ipv6Range":"fd5e:f9::/48","policyRef":"strict"}"""),
            Document("Mesh", "b", """{"ipv6Range":"fd5e:f9:0:8000::/49"}"""),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: left-alone\n");

        var policyErrors = findings.Where(f => f.Severity == LintSeverity.Error && f.Resource == "RandomizationPolicy/strict").ToList();
        Assert.Single(policyErrors);
        Assert.Contains("is not a valid label key", policyErrors[0].Message, StringComparison.Ordinal);
        Assert.Contains(findings, f => f is { Severity: LintSeverity.Warning, Resource: "RandomizationPolicy/strict" } && f.Message.StartsWith("spec.arrowsPerNode", StringComparison.Ordinal));
        Assert.DoesNotContain(findings, f => f.Resource == "Mesh/a" && f.Severity == LintSeverity.Error);
        var overlap = Assert.Single(findings, f => f.Resource == "Mesh/b" && f.Severity == LintSeverity.Error);
        Assert.Equal("spec.ipv6Range: fd5e:f9:0:8000::/49 overlaps fd5e:f9::/48 of mesh 'a'", overlap.Message);
        Assert.DoesNotContain(findings, f => f.Resource.Contains("ConfigMap", StringComparison.Ordinal));
    }

    [Fact]
    public void NotYaml_OrAnotherVersion_IsAnError_ThatSaysWhere()
    {
        // The flow sequence opened on line 3 is found unclosed where the text ends.
        var broken = Lint("apiVersion: re6st.io/v1alpha1\nkind: Mesh\nspec: [unclosed\n");
        Assert.StartsWith("line 4: ", Assert.Single(broken).Message, StringComparison.Ordinal);

        var old = Lint("apiVersion: re6st.io/v1beta9\nkind: Mesh\nmetadata:\n  name: m\nspec:\n  ipv6Range: fd5e:f9::/48\n");
        Assert.Equal("apiVersion: re6st.io/v1beta9 is not served; use re6st.io/v1alpha1", Assert.Single(old).Message);

        var nameless = Lint(Document("Mesh", "", """{"ipv6Range":"fd5e:f9::/48"}"""));
        Assert.Contains(nameless, f => f.Message == "metadata.name: Required value");
    }

    private static string Document(string kind, string name, string spec) =>
        $$"""{"apiVersion":"re6st.io/v1alpha1","kind":"{{kind}}","metadata":{"name":"{{name}}"},"spec":{{spec}}}""";

    private static IReadOnlyList<LintFinding> Lint(params string[] documents) =>
        ManifestLint.Run([("f.yaml", string.Join("\n---\n", documents))]);
}
