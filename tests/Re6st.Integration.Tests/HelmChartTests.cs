using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Re6st.Contracts;
using Re6st.Integration.Tests.Fixtures;
using Re6st.Lab;
using Re6st.Operator.Resources;
using Re6st.Runtime;
using Re6st.Testing;

namespace Re6st.Integration.Tests;

/// <summary>The Helm chart (helm/re6st): lint, renderings the real API server accepts, and a real install and uninstall.</summary>
[Collection(ApiServerGroup.Name)]
public sealed class HelmChartTests(ApiServer server) : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);
    private readonly List<string> _valuesFiles = [];
    private static readonly string Chart = Repository.PathOf("helm", "re6st");
    private static readonly Lazy<Task<string>> Tools = new(FetchToolsAsync);

    /// <summary>Values files of the rendering matrix, by case name.</summary>
    public static TheoryData<string> Cases => ["defaults", "ipv4-off", "openvpn-off", "order-2-submeshes", "two-meshes"];

    /// <summary>Wrong values refused by values.schema.json before any template runs: values file, the field's path and the reason in Helm's message.</summary>
    public static TheoryData<string, string, string> WrongValues => new()
    {
        { "operator: {replicas: two}\n", "at '/operator/replicas'", "got string, want integer" },
        { "operatr: {replicas: 1}\n", "at ''", "additional properties 'operatr' not allowed" },
        { "operator: {replica: 1}\n", "at '/operator'", "additional properties 'replica' not allowed" },
        { "agent: {image: {pullPolicy: Sometimes}}\n", "at '/agent/image/pullPolicy'", "value must be one of 'Always', 'IfNotPresent', 'Never'" },
        { "operator: {metricsPort: 70000}\n", "at '/operator/metricsPort'", "maximum" },
        { "meshes:\n- ipv6Range: fd00::/48\n", "at '/meshes/0'", "missing property 'name'" },
        { "meshes:\n- {name: Demo_1, ipv6Range: fd00::/48}\n", "at '/meshes/0/name'", "does not match pattern" },
        { "meshes:\n- {name: x, ipv6range: fd00::/48}\n", "at '/meshes/0'", "additional properties 'ipv6range' not allowed" },
        { "meshes:\n- {name: x, ipv6Range: fd00::/48, order: 4}\n", "at '/meshes/0/order'", "maximum: got 4, want 3" },
        { "meshes:\n- {name: x, ipv6Range: fd00::/48, ipv4: {enabled: true}}\n", "at '/meshes/0/ipv4'", "missing property 'range'" },
        { "meshes:\n- {name: x, ipv6Range: fd00::/48, babel: {helloInterval: 4 seconds}}\n", "at '/meshes/0/babel/helloInterval'", "does not match pattern" },
        { "policy: {spec: {destroyShare: 1.5}}\n", "at '/policy/spec/destroyShare'", "maximum: got 1.5, want 1" },
        { "policy: {spec: {destroyShare: -0.1}}\n", "at '/policy/spec/destroyShare'", "minimum: got -0.1, want 0" },
        { "policy: {spec: {maxDrain: forever}}\n", "at '/policy/spec/maxDrain'", "does not match pattern" },
    };

    /// <summary>The Prometheus Operator's kinds are not installed in the test API server: rendered, not applied.</summary>
    private static readonly string[] MonitoringOn = ["--set", "serviceMonitor.enabled=true,serviceMonitor.labels.release=prometheus,prometheusRule.enabled=true"];

    [Fact]
    public void ChartCrds_AreCopiesOfTheGeneratedOnes()
    {
        var originals = Directory.GetFiles(Repository.PathOf("crds"), "*.re6st.io.yaml").ToDictionary(f => Path.GetFileName(f), File.ReadAllText);
        var copies = Directory.GetFiles(Path.Combine(Chart, "crds"), "*.yaml").ToDictionary(f => Path.GetFileName(f), File.ReadAllText);
        Assert.Equal(originals.Keys.Order(), copies.Keys.Order());
        foreach (var (name, yaml) in originals)
        {
            Assert.True(yaml == copies[name], $"helm/re6st/crds/{name} differs from crds/{name}: copy it again");
        }
    }

    [Fact]
    public void ChartAlertRules_AreACopyOfConfigPrometheusRules()
    {
        var original = File.ReadAllText(Repository.PathOf("config", "prometheus", "rules.yml"));
        var copy = File.ReadAllText(Path.Combine(Chart, "files", "rules.yml"));
        Assert.True(original == copy, "helm/re6st/files/rules.yml differs from config/prometheus/rules.yml: copy it again");
    }

    [Fact]
    public async Task HelmLint_PassesWithTheDefaults_AndWithEverythingOn()
    {
        var helm = await HelmAsync();
        var (code, output) = await CommandRunner.RunAsync(helm, ["lint", "--strict", Chart], Bound);
        Assert.True(code == 0, output);
        (code, output) = await CommandRunner.RunAsync(helm, ["lint", "--strict", Chart, "-f", ValuesFile("two-meshes"), .. MonitoringOn], Bound);
        Assert.True(code == 0, output);
    }

    [Fact]
    public async Task HelmTemplate_RefusesAMeshWithoutWireGuard_AndReplicasWithoutLeaderElection()
    {
        var helm = await HelmAsync();
        var (code, output) = await CommandRunner.RunAsync(helm, ["template", "re6st", Chart, "-f", WriteValues("meshes:\n- name: x\n  ipv6Range: fd00::/48\n  technologies: {wireguard: false}\n")], Bound);
        Assert.True(code != 0, output);
        Assert.Contains("every host must reach every other over WireGuard", output, StringComparison.Ordinal);
        (code, output) = await CommandRunner.RunAsync(helm, ["template", "re6st", Chart, "--set", "operator.leaderElection=false"], Bound);
        Assert.True(code != 0, output);
        Assert.Contains("several replicas need leader election", output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(WrongValues))]
    public async Task HelmTemplate_RefusesAWrongValue_NamingTheField(string values, string field, string reason)
    {
        var helm = await HelmAsync();
        var (code, output) = await CommandRunner.RunAsync(helm, ["template", "re6st", Chart, "-f", WriteValues(values)], Bound);
        Assert.True(code != 0, output);
        Assert.Contains("values don't meet the specifications of the schema", output, StringComparison.Ordinal);
        Assert.Contains($"{field}: ", output, StringComparison.Ordinal);
        Assert.Contains(reason, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HelmLint_RefusesAWrongValue_NamingTheField()
    {
        var helm = await HelmAsync();
        var (code, output) = await CommandRunner.RunAsync(helm, ["lint", "--strict", Chart, "--set", "operator.replicas=two"], Bound);
        Assert.True(code != 0, output);
        Assert.Contains("at '/operator/replicas': got string, want integer", output, StringComparison.Ordinal);
    }

    [Fact]
    public void ValuesSchema_PolicySpec_HasTheFieldsOfTheRandomizationPolicyCrd()
    {
        // policy.spec is written as it is into the RandomizationPolicy: the schema must know every field of the CRD, and no other.
        var crd = KubernetesYaml.Deserialize<V1CustomResourceDefinition>(File.ReadAllText(Path.Combine(Chart, "crds", "randomizationpolicies.re6st.io.yaml")));
        var crdFields = crd.Spec.Versions.Single().Schema.OpenAPIV3Schema.Properties["spec"].Properties.Keys;
        var schema = JsonNode.Parse(File.ReadAllText(Path.Combine(Chart, "values.schema.json")))!;
        var schemaFields = schema["definitions"]!["policySpec"]!["properties"]!.AsObject().Select(p => p.Key);
        Assert.Equal(crdFields.Order(StringComparer.Ordinal), schemaFields.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task HelmTemplate_Renders_AndTheApiServerAcceptsEveryObject(string name)
    {
        var objects = await RenderAndDryRunAsync(name);

        var deployment = One(objects, "Deployment");
        var container = deployment["spec"]!["template"]!["spec"]!["containers"]![0]!;
        Assert.Equal(2, (int)deployment["spec"]!["replicas"]!);
        Assert.Equal(["metadata.namespace", "metadata.name"], container["env"]!.AsArray().Select(e => (string)e!["valueFrom"]!["fieldRef"]!["fieldPath"]!));
        Assert.Equal(["--metrics", "0.0.0.0:9653"], Args(container));

        var meshes = Of(objects, "Mesh");
        var daemonSets = Of(objects, "DaemonSet");
        Assert.Equal(meshes.Select(m => (string)m["metadata"]!["name"]!), daemonSets.Select(d => Args(d["spec"]!["template"]!["spec"]!["containers"]![0]!)[2]));
        foreach (var ds in daemonSets)
        {
            var pod = ds["spec"]!["template"]!["spec"]!;
            var agent = pod["containers"]![0]!;
            Assert.True((bool)pod["hostNetwork"]!);
            Assert.True((bool)pod["hostPID"]!);
            Assert.Equal("ClusterFirstWithHostNet", (string)pod["dnsPolicy"]!);
            Assert.Equal(["NET_ADMIN", "NET_RAW"], agent["securityContext"]!["capabilities"]!["add"]!.AsArray().Select(c => (string)c!));
            var env = agent["env"]!.AsArray();
            Assert.Equal(["NODE_NAME", "HOST_IP", "POD_NAMESPACE", "RE6ST_DAEMONSET"], env.Select(e => (string)e!["name"]!));
            Assert.Equal(["spec.nodeName", "status.hostIP", "metadata.namespace"], env.Take(3).Select(e => (string)e!["valueFrom"]!["fieldRef"]!["fieldPath"]!));

            // The DaemonSet the agent reads on SIGTERM (hand over or clean) is its own.
            Assert.Equal((string)ds["metadata"]!["name"]!, (string)env[3]!["value"]!);
            Assert.Equal(["--in-cluster", "--mesh"], Args(agent).Take(2));
            Assert.Equal(["/dev/net/tun", "/var/lib/re6st", "/sys/fs/cgroup"], pod["volumes"]!.AsArray().Select(v => (string)v!["hostPath"]!["path"]!));
            Assert.Equal(["test", "-f", $"/var/lib/re6st/{Args(agent)[2]}/ready"], agent["readinessProbe"]!["exec"]!["command"]!.AsArray().Select(c => (string)c!));
            Assert.Equal("Exists", (string)pod["tolerations"]![0]!["operator"]!);
        }

        var mesh = meshes[0]["spec"]!;
        var technologies = mesh["technologies"]!.AsArray().Select(t => (string)t!).ToList();
        var agentArgs = Args(daemonSets[0]["spec"]!["template"]!["spec"]!["containers"]![0]!);
        Assert.Equal(string.Join(',', technologies), agentArgs[agentArgs.IndexOf("--technologies") + 1]);
        switch (name)
        {
            case "defaults":
                Assert.Equal("fd5e:6e7::/48", (string)mesh["ipv6Range"]!);
                Assert.Equal("10.42.0.0/16", (string)mesh["ipv4Range"]!);
                Assert.Equal(["wireguard", "openvpn"], technologies);
                Assert.Equal(2, (int)mesh["order"]!);
                Assert.Equal("enabled", (string)daemonSets[0]["spec"]!["template"]!["spec"]!["nodeSelector"]!["re6st.io/mesh"]!);
                Assert.Equal("default", (string)One(objects, "RandomizationPolicy")["metadata"]!["name"]!);
                AssertRbacAsInCrdsRbac(objects);
                break;
            case "ipv4-off":
                Assert.Null(mesh["ipv4Range"]);
                Assert.Null(mesh["ipv4NodePrefixLength"]);
                break;
            case "openvpn-off":
                Assert.Equal(["wireguard"], technologies);
                break;
            case "order-2-submeshes":
                Assert.Equal(2, (int)mesh["order"]!);
                Assert.Equal([3], mesh["subMeshes"]!.AsArray().Select(n => (int)n!));
                Assert.Null(mesh["expectedNodes"]);
                break;
            case "two-meshes":
                Assert.Equal(2, meshes.Count);
                var ports = daemonSets.Select(d => (int)d["spec"]!["template"]!["spec"]!["containers"]![0]!["ports"]![0]!["containerPort"]!);
                Assert.Equal([9652, 9653], ports);
                Assert.Equal("In", (string)daemonSets[1]["spec"]!["template"]!["spec"]!["affinity"]!["nodeAffinity"]!["requiredDuringSchedulingIgnoredDuringExecution"]!["nodeSelectorTerms"]![0]!["matchExpressions"]![0]!["operator"]!);
                Assert.Empty(Of(objects, "RandomizationPolicy"));
                break;
        }
    }

    [Fact]
    public async Task HelmTemplate_WithTracing_GivesTheOperatorAndEveryAgentTheOtlpEndpoint_AndRefusesAnUnknownProtocol()
    {
        var objects = await RenderAndDryRunAsync("tracing");
        var containers = Of(objects, "DaemonSet").Prepend(One(objects, "Deployment")).Select(o => o["spec"]!["template"]!["spec"]!["containers"]![0]!).ToList();
        Assert.Equal(3, containers.Count);
        foreach (var container in containers)
        {
            var env = container["env"]!.AsArray().ToDictionary(e => (string)e!["name"]!, e => (string?)e!["value"]);
            Assert.Equal("http://otel-collector.monitoring:4318", env["OTEL_EXPORTER_OTLP_ENDPOINT"]);
            Assert.Equal("http/protobuf", env["OTEL_EXPORTER_OTLP_PROTOCOL"]);
        }

        var helm = await HelmAsync();
        string[] udp = ["template", "re6st", Chart, "--set", "tracing.otlpEndpoint=http://c:4317,tracing.otlpProtocol=udp"];
        var (code, output) = await CommandRunner.RunAsync(helm, udp, Bound);
        Assert.True(code != 0, output);
        Assert.Contains("at '/tracing/otlpProtocol': value must be one of 'grpc', 'http/protobuf'", output, StringComparison.Ordinal);
        // Without the schema (--skip-schema-validation) the template refuses it still.
        (code, output) = await CommandRunner.RunAsync(helm, [.. udp, "--skip-schema-validation"], Bound);
        Assert.True(code != 0, output);
        Assert.Contains("tracing.otlpProtocol: \"udp\" is neither grpc nor http/protobuf", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HelmTemplate_WithMonitoringOn_EmbedsTheAlertRulesAndAServiceMonitor()
    {
        var helm = await HelmAsync();
        var (code, output) = await CommandRunner.RunAsync(helm, ["template", "re6st", Chart, "-n", ApiServer.OperatorNamespace, "-f", ValuesFile("two-meshes"), .. MonitoringOn], Bound);
        Assert.True(code == 0, output);
        var documents = output.Split("\n---", StringSplitOptions.RemoveEmptyEntries);
        var rule = Assert.Single(documents, d => d.Contains("kind: PrometheusRule", StringComparison.Ordinal));
        var groups = File.ReadAllText(Repository.PathOf("config", "prometheus", "rules.yml"));
        static string Trimmed(IEnumerable<string> lines) => string.Join('\n', lines.Select(l => l.TrimEnd()));
        Assert.Contains(Trimmed(groups.TrimEnd().Split('\n').Select(l => "  " + l)), Trimmed(rule.Split('\n')), StringComparison.Ordinal);
        var monitor = Assert.Single(documents, d => d.Contains("kind: ServiceMonitor", StringComparison.Ordinal));
        Assert.Contains("port: metrics", monitor, StringComparison.Ordinal);
        Assert.Equal(3, documents.Count(d => d.Contains("kind: Service\n", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task HelmInstall_CreatesTheOperatorTheAgentsTheMeshAndThePolicy_AndUninstallRemovesThem()
    {
        var helm = await HelmAsync();
        var ns = Cluster.NewName("helm");
        var release = "re6st-" + ns;
        var mesh = ns + "-mesh";
        var values = WriteValues($$"""
            meshes:
            - name: {{mesh}}
              ipv6Range: fd5e:42::/48
              ipv4: {enabled: true, range: 10.77.0.0/16}
              order: 1
              nodeSelector:
                matchLabels:
                  re6st.io/test: {{ns}}
              technologies: {wireguard: true, openvpn: false}
            """);
        Assert.Null(await ReadOrNullAsync(() => server.Admin.CustomObjects.GetClusterCustomObjectAsync(Group.Name, Group.Version, V1Alpha1RandomizationPolicy.Plural, "default")));
        await server.Admin.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        try
        {
            var (code, output) = await CommandRunner.RunAsync(helm, [.. Kube, "install", release, Chart, "-n", ns, "-f", values, "--timeout", "2m"], Bound);
            Assert.True(code == 0, output);

            var deployment = await server.Admin.AppsV1.ReadNamespacedDeploymentAsync($"{release}-operator", ns);
            Assert.Equal(2, deployment.Spec.Replicas);
            Assert.Equal($"{release}-operator", deployment.Spec.Template.Spec.ServiceAccountName);
            var daemonSet = await server.Admin.AppsV1.ReadNamespacedDaemonSetAsync($"{release}-agent-{mesh}", ns);
            Assert.Equal(["--in-cluster", "--mesh", mesh], daemonSet.Spec.Template.Spec.Containers[0].Args.Take(3));
            Assert.Equal(ns, daemonSet.Spec.Template.Spec.NodeSelector["re6st.io/test"]);
            var created = await server.Admin.CustomObjects.GetClusterCustomObjectAsync<V1Alpha1Mesh>(Group.Name, Group.Version, V1Alpha1Mesh.Plural, mesh);
            Assert.Equal("10.77.0.0/16", created.Spec.Ipv4Range);
            Assert.Equal([TechnologyName.WireGuard], created.Spec.Technologies);
            var policy = await server.Admin.CustomObjects.GetClusterCustomObjectAsync<V1Alpha1RandomizationPolicy>(Group.Name, Group.Version, V1Alpha1RandomizationPolicy.Plural, "default");
            Assert.Equal(release, policy.Metadata.Labels["app.kubernetes.io/instance"]);
            var role = await server.Admin.RbacAuthorizationV1.ReadClusterRoleAsync($"{release}-agent");
            Assert.Contains(role.Rules, r => r.Resources.Contains("meshnodes/status"));

            (code, output) = await CommandRunner.RunAsync(helm, [.. Kube, "uninstall", release, "-n", ns, "--timeout", "2m"], Bound);
            Assert.True(code == 0, output);
            Assert.Null(await ReadOrNullAsync(() => server.Admin.CustomObjects.GetClusterCustomObjectAsync(Group.Name, Group.Version, V1Alpha1Mesh.Plural, mesh)));
            Assert.Null(await ReadOrNullAsync(() => server.Admin.CustomObjects.GetClusterCustomObjectAsync(Group.Name, Group.Version, V1Alpha1RandomizationPolicy.Plural, "default")));
            Assert.Null(await ReadOrNullAsync(() => server.Admin.RbacAuthorizationV1.ReadClusterRoleAsync($"{release}-agent")));
            Assert.Null(await ReadOrNullAsync(() => server.Admin.AppsV1.ReadNamespacedDaemonSetAsync($"{release}-agent-{mesh}", ns)));
            Assert.NotNull(await ReadOrNullAsync(() => server.Admin.ApiextensionsV1.ReadCustomResourceDefinitionAsync("meshes.re6st.io")));
        }
        finally
        {
            await CommandRunner.RunAsync(helm, [.. Kube, "uninstall", release, "-n", ns, "--ignore-not-found", "--timeout", "2m"], Bound);
            await DeleteNamespaceAsync(ns);
        }
    }

    private string[] Kube => ["--kubeconfig", server.AdminKubeconfig];

    private async Task<List<JsonNode>> RenderAndDryRunAsync(string name)
    {
        var helm = await HelmAsync();
        var (code, output) = await CommandRunner.RunAsync(helm, ["template", "re6st", Chart, "-n", ApiServer.OperatorNamespace, "-f", ValuesFile(name)], Bound);
        Assert.True(code == 0, output);
        var rendered = Path.Combine(Path.GetTempPath(), $"re6st-helm-{name}-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(rendered, output);
        try
        {
            var kubectl = Path.Combine(Path.GetDirectoryName(helm)!, "kubectl");
            var (applied, json) = await CommandRunner.RunAsync(kubectl, [.. Kube, "apply", "--dry-run=server", "-o", "json", "-f", rendered], Bound);
            Assert.True(applied == 0, json);
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
            var root = JsonNode.Parse(ref reader)!;
            return (string?)root["kind"] == "List" ? [.. root["items"]!.AsArray().Select(i => i!)] : [root];
        }
        finally
        {
            File.Delete(rendered);
        }
    }

    private static void AssertRbacAsInCrdsRbac(List<JsonNode> rendered)
    {
        foreach (var who in new[] { "operator", "agent" })
        {
            var expected = KubernetesYaml.LoadAllFromString(File.ReadAllText(Repository.PathOf("crds", "rbac", $"{who}.yaml")));
            foreach (var kind in new[] { "ClusterRole", "Role" })
            {
                var original = expected.Single(o => o is IKubernetesObject k && k.Kind == kind);
                var rules = JsonNode.Parse(KubernetesJson.Serialize(original))!["rules"]!;
                var copy = rendered.Single(o => (string)o["kind"]! == kind && (string)o["metadata"]!["name"]! == $"re6st-{who}");
                Assert.True(JsonNode.DeepEquals(rules, copy["rules"]), $"the chart's {kind} re6st-{who} differs from crds/rbac/{who}.yaml");
            }

            foreach (var kind in new[] { "ClusterRoleBinding", "RoleBinding" })
            {
                var binding = rendered.Single(o => (string)o["kind"]! == kind && (string)o["metadata"]!["name"]! == $"re6st-{who}");
                Assert.Equal($"re6st-{who}", (string)binding["subjects"]![0]!["name"]!);
                Assert.Equal(ApiServer.OperatorNamespace, (string)binding["subjects"]![0]!["namespace"]!);
            }
        }
    }

    private static List<JsonNode> Of(List<JsonNode> objects, string kind) => [.. objects.Where(o => (string)o["kind"]! == kind)];

    private static JsonNode One(List<JsonNode> objects, string kind) => Assert.Single(Of(objects, kind));

    private static List<string> Args(JsonNode container) => [.. container["args"]!.AsArray().Select(a => (string)a!)];

    private string ValuesFile(string name) => name switch
    {
        "defaults" => WriteValues("{}\n"),
        "ipv4-off" => WriteValues(SampleMesh("ipv4: {enabled: false}")),
        "openvpn-off" => WriteValues(SampleMesh("technologies: {wireguard: true, openvpn: false}")),
        "order-2-submeshes" => WriteValues(SampleMesh("order: 2\n  subMeshes: [3]")),
        "tracing" => WriteValues("""
            tracing: {otlpEndpoint: "http://otel-collector.monitoring:4318", otlpProtocol: http/protobuf}
            meshes:
            - {name: east, ipv6Range: "fd5e:1::/48", nodeSelector: {matchLabels: {re6st.io/mesh: east}}}
            - {name: west, ipv6Range: "fd5e:2::/48", nodeSelector: {matchLabels: {re6st.io/mesh: west}}}
            """),
        "two-meshes" => WriteValues("""
            meshes:
            - name: east
              ipv6Range: fd5e:1::/48
              nodeSelector: {matchLabels: {re6st.io/mesh: east}}
            - name: west
              ipv6Range: fd5e:2::/48
              ipv4: {enabled: true, range: 10.43.0.0/16, nodePrefixLength: 28}
              order: 1
              nodeSelector:
                matchExpressions:
                - {key: topology.kubernetes.io/region, operator: In, values: [west]}
            policy: {create: false}
            """),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "no such values case"),
    };

    /// <summary>The default mesh with one field set otherwise (Helm replaces a list as a whole).</summary>
    private static string SampleMesh(string field) => $$"""
        meshes:
        - name: demo
          ipv6Range: fd5e:6e7::/48
          ipv4: {enabled: true, range: 10.42.0.0/16}
          order: 2
          expectedNodes: 400
          nodeSelector:
            matchLabels: {re6st.io/mesh: enabled}
          {{field}}
        """;

    /// <summary>A values file for helm, removed when the test ends (<see cref="Dispose"/>).</summary>
    private string WriteValues(string yaml)
    {
        var path = Path.Combine(Path.GetTempPath(), $"re6st-helm-values-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml);
        _valuesFiles.Add(path);
        return path;
    }

    public void Dispose()
    {
        foreach (var path in _valuesFiles)
        {
            File.Delete(path);
        }
    }

    private static async Task<T?> ReadOrNullAsync<T>(Func<Task<T>> read)
        where T : class
    {
        try
        {
            return await read();
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    // CAVEAT: this API server runs no namespace controller, so a deleted namespace stays Terminating
    // until its "kubernetes" finalizer is removed by hand (once helm uninstall emptied it).
    private async Task DeleteNamespaceAsync(string ns)
    {
        if (await ReadOrNullAsync(() => server.Admin.CoreV1.ReadNamespaceAsync(ns)) is null)
        {
            return;
        }

        await server.Admin.CoreV1.DeleteNamespaceAsync(ns);
        var terminating = await ReadOrNullAsync(() => server.Admin.CoreV1.ReadNamespaceAsync(ns));
        if (terminating is not null)
        {
            terminating.Spec.Finalizers = [];
            await server.Admin.CoreV1.ReplaceNamespaceFinalizeAsync(terminating, ns);
        }
    }

    private static async Task<string> HelmAsync() => Path.Combine(await Tools.Value, "helm");

    private static async Task<string> FetchToolsAsync()
    {
        var (code, output) = await CommandRunner.RunAsync("bash", [Repository.PathOf("tests", "tools", "kube-tools.sh")], TimeSpan.FromMinutes(10));
        Assert.True(code == 0, output);
        return output.Trim().Split('\n')[^1].Trim();
    }
}
