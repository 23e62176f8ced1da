using Prometheus;
using Re6st.Operator.Resources;

namespace Re6st.Operator;

/// <summary>
/// The operator's metrics (Prometheus text format), in a registry of its own: reconcile passes and
/// their duration, API writes, and each mesh's size as its last pass saw it.
/// </summary>
public sealed class OperatorMetrics
{
    private readonly Counter _passes;
    private readonly Histogram _duration;
    private readonly Counter _writes;
    private readonly Gauge _leading;
    private readonly Gauge _nodes;
    private readonly Gauge _subMeshes;
    private readonly Gauge _bridges;
    private readonly Gauge _ready;
    private readonly Gauge _routed;

    public OperatorMetrics()
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var f = Prometheus.Metrics.WithCustomRegistry(Registry);
        _passes = f.CreateCounter("re6st_operator_reconciles_total", "Reconcile passes of a mesh, by result (ok, error).", "mesh", "result");
        _duration = f.CreateHistogram("re6st_operator_reconcile_duration_seconds", "Time of one reconcile pass of a mesh (plan and writes).", ["mesh"], new HistogramConfiguration
        {
            Buckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
        });
        _writes = f.CreateCounter("re6st_operator_writes_total", "Writes to the API server (creates, replaces, deletes, status patches).");
        _leading = f.CreateGauge("re6st_operator_leader", "1 while this replica holds the lease and reconciles.");
        _nodes = f.CreateGauge("re6st_operator_mesh_nodes", "Hosts in the mesh (MeshNodes), as the last pass planned them.", "mesh");
        _subMeshes = f.CreateGauge("re6st_operator_mesh_submeshes", "Sub-meshes of the mesh.", "mesh");
        _bridges = f.CreateGauge("re6st_operator_mesh_bridges", "Bridge roles in the mesh.", "mesh");
        _ready = f.CreateGauge("re6st_operator_mesh_ready", "1 when the mesh's Ready condition is true: every host routed, as its agent reports it.", "mesh");
        _routed = f.CreateGauge("re6st_operator_mesh_routed_hosts", "Hosts of the mesh routed, as their agents report them (status.readyHosts).", "mesh");
    }

    public CollectorRegistry Registry { get; }

    public void Leading(bool leading) => _leading.Set(leading ? 1 : 0);

    public void Reconciled(string mesh, TimeSpan duration, bool ok)
    {
        _passes.WithLabels(mesh, ok ? "ok" : "error").Inc();
        _duration.WithLabels(mesh).Observe(duration.TotalSeconds);
    }

    public void WritesTo(long total) => _writes.IncTo(total);

    public void Observe(string mesh, MeshStatus? status)
    {
        _nodes.WithLabels(mesh).Set(status?.Nodes ?? 0);
        _subMeshes.WithLabels(mesh).Set(status?.SubMeshCount ?? 0);
        _bridges.WithLabels(mesh).Set(status?.Bridges ?? 0);
        _ready.WithLabels(mesh).Set(Reconcile.Conditions.IsTrue(status?.Conditions, Reconcile.Conditions.Ready) ? 1 : 0);
        _routed.WithLabels(mesh).Set(status?.ReadyHosts ?? 0);
    }

    /// <summary>A mesh that is gone leaves no series behind.</summary>
    public void Forget(string mesh)
    {
        foreach (var gauge in new[] { _nodes, _subMeshes, _bridges, _ready, _routed })
        {
            gauge.RemoveLabelled(mesh);
        }
    }
}
