using System.Diagnostics;
using System.Net;
using System.Text;
using k8s;
using k8s.Models;
using Re6st.Contracts;
using Re6st.Integration.Tests.Fixtures;
using Re6st.Lab;
using Re6st.Lab.Agents;
using Re6st.Operator;
using Re6st.Operator.Resources;
using Re6st.Runtime;
using Re6st.Testing;

namespace Re6st.Integration.Tests;

/// <summary>The operator's spans: recorded in memory from an operator in-process, and sent by OTLP from the real program.</summary>
[Collection(ApiServerGroup.Name)]
public sealed class TracingTests(ApiServer server)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly Cluster _cluster = new(server);

    [Fact]
    public async Task ReconcilePass_IsASpanWithTheMeshOutcomeAndWrites_PlanAndApplyAsChildren_AndAFailedPassIsAnError()
    {
        using var spans = new SpanRecorder("re6st-operator", OperatorTracing.SourceName);
        var test = Cluster.NewName("traced");
        await using var op = await OperatorRun.StartAsync(server);
        await _cluster.CreateNodesAsync(test, 3, new Dictionary<string, string> { ["re6st.io/test"] = test });
        await _cluster.CreateAsync(Cluster.Mesh(test, test), V1Alpha1Mesh.Plural);
        await _cluster.PlannedMeshAsync(test, 3, op.Log);

        // The passes that made the mesh wrote its finalizer, three MeshNodes and the status; one of them planned all three.
        var passes = await spans.EventuallyAsync(
            s => Passes(s, test) is { Count: > 0 } p && p.Sum(Writes) >= 5 ? p : null, Bound, $"the passes of {test}");
        var planned = Assert.Single(passes.SelectMany(p => Children(spans, p, "re6st.mesh.plan")).Where(c => (int)SpanRecorder.Tag(c, "re6st.nodes")! == 3).Take(1));
        var creating = passes.Single(p => p.SpanId == planned.ParentSpanId);
        Assert.Equal("planned", SpanRecorder.Tag(creating, "re6st.reconcile.outcome"));
        Assert.Equal(3, (int)SpanRecorder.Tag(Assert.Single(Children(spans, creating, "re6st.mesh.apply")), "re6st.meshnodes.desired")!);

        // A pass over a mesh that is as planned writes nothing, and says so.
        using (var direct = spans.Step("a pass more"))
        {
            await op.Host.Meshes.ReconcileAsync(test, CancellationToken.None);
        }

        var again = Assert.Single(Children(spans, spans.Named("a pass more").Single(), "re6st.reconcile.mesh"));
        Assert.Equal(test, SpanRecorder.Tag(again, "re6st.mesh"));
        Assert.Equal(0, Writes(again));
        Assert.Equal("planned", SpanRecorder.Tag(again, "re6st.reconcile.outcome"));
        Assert.Equal(ActivityStatusCode.Unset, again.Status);
        Assert.True((bool)SpanRecorder.Tag(Assert.Single(Children(spans, again, "re6st.mesh.plan")), "re6st.planned")!);

        // A pass that fails (here: stopped before its first API call) is an error, with the exception.
        using (var cancelled = new CancellationTokenSource())
        {
            await cancelled.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => op.Host.Meshes.ReconcileAsync(test, cancelled.Token));
        }

        var failed = Assert.Single(Passes(spans.Spans, test), p => p.Status == ActivityStatusCode.Error);
        Assert.Equal("error", SpanRecorder.Tag(failed, "re6st.reconcile.outcome"));
        Assert.Contains(failed.Events, e => e.Name == "exception");

        // The finalizer's pass is the mesh's last.
        await _cluster.DeleteMeshAsync(test);
        await spans.EventuallyAsync(s => Passes(s, test).FirstOrDefault(p => (string?)SpanRecorder.Tag(p, "re6st.reconcile.outcome") == "deleted"), Bound, $"the deletion pass of {test}");
    }

    [Fact]
    public async Task PolicyPass_IsASpanWithThePolicyAndWhetherItIsValid()
    {
        using var spans = new SpanRecorder("re6st-operator", OperatorTracing.SourceName);
        var bad = Cluster.NewName("traced-policy");
        await using var op = await OperatorRun.StartAsync(server);
        await _cluster.CreateAsync(new V1Alpha1RandomizationPolicy
        {
            Metadata = new V1ObjectMeta { Name = bad },
            Spec = new PolicySpecResource { BootstrapPeers = ["a", "a"] },
        }, V1Alpha1RandomizationPolicy.Plural);

        var pass = await spans.EventuallyAsync(
            s => s.FirstOrDefault(p => p.OperationName == "re6st.reconcile.policy" && (string?)SpanRecorder.Tag(p, "re6st.policy") == bad && Writes(p) == 1),
            Bound,
            $"the pass that wrote the status of {bad}");
        Assert.Equal("invalid", SpanRecorder.Tag(pass, "re6st.reconcile.outcome"));
        await server.Admin.CustomObjects.DeleteClusterCustomObjectAsync(Group.Name, Group.Version, V1Alpha1RandomizationPolicy.Plural, bad);
    }

    [Fact]
    public async Task OperatorProgram_WithTraces_SendsItsReconcilePassesByOtlp_AsReSixStOperator()
    {
        // A collector's OTLP/HTTP receiver, as far as the exporter can tell: it takes the batches and answers 200.
        var port = AgentMesh.FreePort();
        using var collector = new HttpListener();
        collector.Prefixes.Add($"http://127.0.0.1:{port}/");
        collector.Start();
        var batches = new List<(string Path, string ContentType, byte[] Body)>();
        _ = ReceiveAsync(collector, batches);

        var test = Cluster.NewName("otlp");
        var log = Path.Combine(Path.GetTempPath(), $"re6st-operator-{test}.log");
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "re6st-operator.dll"), "--kubeconfig", server.OperatorKubeconfig, "--namespace", ApiServer.OperatorNamespace, "--no-leader-election", "--metrics", "off", "--traces", $"http://127.0.0.1:{port}" },
            Environment = { ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf", ["OTEL_BSP_SCHEDULE_DELAY"] = "200" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var program = Process.Start(info)!;
        var output = Task.WhenAll(program.StandardOutput.ReadToEndAsync(), program.StandardError.ReadToEndAsync());
        try
        {
            await _cluster.CreateNodesAsync(test, 2, new Dictionary<string, string> { ["re6st.io/test"] = test });
            await _cluster.CreateAsync(Cluster.Mesh(test, test), V1Alpha1Mesh.Plural);
            var deadline = DateTime.UtcNow + Bound;
            (string Path, string ContentType, byte[] Body) batch;
            while ((batch = Received(batches, test)).Body is null)
            {
                Assert.True(DateTime.UtcNow < deadline && !program.HasExited, $"no OTLP batch with a pass of {test} within {Bound.TotalSeconds} s ({batches.Count} batches); the operator's output is in {log}");
                await Task.Delay(200);
            }

            Assert.Equal("/v1/traces", batch.Path);
            Assert.Equal("application/x-protobuf", batch.ContentType);

            // Protobuf keeps strings as they are: the span's name, its mesh and the service are in the bytes.
            var text = Encoding.UTF8.GetString(batch.Body);
            Assert.Contains("re6st.reconcile.mesh", text, StringComparison.Ordinal);
            Assert.Contains("re6st-operator", text, StringComparison.Ordinal);
            Assert.Contains("re6st.reconcile.outcome", text, StringComparison.Ordinal);
        }
        finally
        {
            program.Kill();
            await program.WaitForExitAsync();
            await File.WriteAllTextAsync(log, string.Concat(await output));
            collector.Stop();
            await _cluster.DeleteMeshAsync(test);
        }
    }

    [Fact]
    public async Task OperatorProgram_WithATracesValueThatIsNoUrl_SaysWhyAndExits()
    {
        var (code, output) = await CommandRunner.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "re6st-operator.dll"), "--traces", "collector:4317"], Bound);
        Assert.Equal(2, code);
        Assert.Contains("re6st-operator: --traces: 'collector:4317' is not an http:// or https:// URL (or 'off')", output, StringComparison.Ordinal);
        Assert.Contains("[--traces URL|off", output, StringComparison.Ordinal);
    }

    private static List<Activity> Passes(IEnumerable<Activity> spans, string mesh) =>
        [.. spans.Where(s => s.OperationName == "re6st.reconcile.mesh" && (string?)SpanRecorder.Tag(s, "re6st.mesh") == mesh)];

    private static IEnumerable<Activity> Children(SpanRecorder spans, Activity parent, string name) =>
        spans.Named(name).Where(c => c.ParentSpanId == parent.SpanId);

    private static int Writes(Activity pass) => (int)SpanRecorder.Tag(pass, "re6st.writes")!;

    private static (string Path, string ContentType, byte[] Body) Received(List<(string Path, string ContentType, byte[] Body)> batches, string mesh)
    {
        lock (batches)
        {
            return batches.FirstOrDefault(b => Encoding.UTF8.GetString(b.Body).Contains(mesh, StringComparison.Ordinal));
        }
    }

    private static async Task ReceiveAsync(HttpListener collector, List<(string Path, string ContentType, byte[] Body)> batches)
    {
        while (collector.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await collector.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            lock (batches)
            {
                batches.Add((context.Request.Url!.AbsolutePath, context.Request.ContentType ?? "", body.ToArray()));
            }

            context.Response.StatusCode = 200;
            context.Response.Close();
        }
    }
}
