using k8s;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Re6st.Operator.Reconcile;
using Re6st.Operator.Resources;
using Re6st.Operator.Runtime;
using Re6st.Runtime;

namespace Re6st.Operator;

/// <summary>
/// The operator process: elects a leader through a Lease; the leader watches Meshes, policies,
/// MeshNodes and Nodes, maps every event to the meshes it concerns, and reconciles each mesh as a
/// whole (a burst of events gives one recompute). A replica that loses the lease stops working.
/// </summary>
public sealed partial class OperatorHost : IDisposable
{
    private const string PolicyKeyPrefix = "policy/";
    private readonly IKubernetes _client;
    private readonly OperatorOptions _options;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly ReconcileScheduler _scheduler;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public OperatorHost(IKubernetes client, OperatorOptions options, ILoggerFactory logs, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(logs);
        _client = client;
        _options = options;
        _time = time;
        _log = logs.CreateLogger("re6st.operator");
        Caches = new Caches(client, logs, time);
        var events = new EventRecorder(client, logs.CreateLogger("re6st.events"), time);
        Meshes = new MeshReconciler(client, Caches, new KeySecrets(client, options.Namespace, time), events, options, logs.CreateLogger("re6st.mesh"), time, Metrics);
        Policies = new PolicyReconciler(client, Caches, events, time);
        _scheduler = new ReconcileScheduler(time, options.Debounce);
    }

    public Caches Caches { get; }

    public OperatorMetrics Metrics { get; } = new();

    public MeshReconciler Meshes { get; }

    public PolicyReconciler Policies { get; }

    /// <summary>Completes once this replica leads and its caches are filled.</summary>
    public Task Ready => _ready.Task;

    public bool IsLeading { get; private set; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (!_options.LeaderElection)
        {
            await LeadAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        // Until this replica first leads, a lease it cannot read (API server unreachable, or a
        // refusal) is waited out: the operator keeps serving its metrics and says why.
        while (true)
        {
            try
            {
                await ElectAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when ((e is HttpRequestException or k8s.Autorest.HttpOperationException) && !cancellationToken.IsCancellationRequested)
            {
                LogLeaseUnreadable(_log, _options.Namespace, _options.LeaseName, e.Message, LeaseRetry.TotalSeconds);
                await Task.Delay(LeaseRetry, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static readonly TimeSpan LeaseRetry = TimeSpan.FromSeconds(2);

    private async Task ElectAsync(CancellationToken cancellationToken)
    {
        var lease = new LeaseLock(_client, _options.Namespace, _options.LeaseName, _options.Identity);
        using var elector = new LeaderElector(new LeaderElectionConfig(lease)
        {
            LeaseDuration = TimeSpan.FromSeconds(15),
            RenewDeadline = TimeSpan.FromSeconds(10),
            RetryPeriod = LeaseRetry,
        });
        using var leading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task work = Task.CompletedTask;
        var led = false;
        elector.OnStartedLeading += () =>
        {
            led = true;
            LogLeading(_log, _options.Identity);
            work = LeadAsync(leading.Token);
        };
        elector.OnNewLeader += leader => LogLeader(_log, leader);
        try
        {
            await elector.RunUntilLeadershipLostAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (led && (e is HttpRequestException or k8s.Autorest.HttpOperationException))
        {
            // The lease could not be renewed: another replica may take it once it expires, so
            // this one stops as if it had lost it.
            LogRenewFailed(_log, _options.Identity, e.Message);
        }
        finally
        {
            await leading.CancelAsync().ConfigureAwait(false);
            await work.ConfigureAwait(false);
        }

        if (!cancellationToken.IsCancellationRequested)
        {
            LogLost(_log, _options.Identity);
        }
    }

    private async Task LeadAsync(CancellationToken cancellationToken)
    {
        IsLeading = true;
        Metrics.Leading(true);
        try
        {
            Caches.Meshes.Changed += (type, mesh, old) =>
            {
                _scheduler.Enqueue(mesh.Metadata.Name);

                // Ranges are checked against the other meshes: a new, gone or edited mesh concerns them all.
                if (type != ChangeType.Modified || old is null || old.Metadata.Generation != mesh.Metadata.Generation)
                {
                    EnqueueMeshes(_ => true);
                }
            };
            Caches.Policies.Changed += (_, policy, _) =>
            {
                _scheduler.Enqueue(PolicyKeyPrefix + policy.Metadata.Name);
                EnqueueMeshes(m => (m.Spec.PolicyRef ?? V1Alpha1RandomizationPolicy.DefaultName) == policy.Metadata.Name);
            };
            Caches.Nodes.Changed += (type, node, old) =>
            {
                // Nodes change every few seconds (heartbeats); only joins, leaves and label edits matter here.
                if (type != ChangeType.Modified || old is null || !MeshReconciler.SameLabels(node.Metadata.Labels, old.Metadata.Labels))
                {
                    EnqueueMeshes(_ => true);
                }
            };
            Caches.MeshNodes.Changed += (_, mn, _) =>
            {
                // Deletions and spec edits are put right; status updates from agents (at least one
                // per host every StatusHeartbeat.Interval) leave the plan alone but move the mesh's
                // Ready condition. The scheduler's debounce makes one pass of many updates.
                _scheduler.Enqueue(mn.Spec.Mesh);
            };

            var informers = Caches.Run(cancellationToken).ToList();
            await Caches.WaitForSyncAsync(cancellationToken).ConfigureAwait(false);
            EnqueueMeshes(_ => true);
            _ready.TrySetResult();
            var work = _scheduler.RunAsync(ReconcileAsync, _options.Workers, (key, e) => LogFailed(_log, key, e.Message, e), cancellationToken);
            var resync = ResyncAsync(cancellationToken);
            await Task.WhenAll([work, resync, .. informers]).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            IsLeading = false;
            Metrics.Leading(false);
        }
    }

    private Task ReconcileAsync(string key, CancellationToken cancellationToken) =>
        key.StartsWith(PolicyKeyPrefix, StringComparison.Ordinal)
            ? Policies.ReconcileAsync(key[PolicyKeyPrefix.Length..], cancellationToken)
            : Meshes.ReconcileAsync(key, cancellationToken);

    /// <summary>Level-triggered safety net and clock for bridge re-election: every mesh, every resync period.</summary>
    private async Task ResyncAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(_options.ResyncPeriod, _time, cancellationToken).ConfigureAwait(false);
                EnqueueMeshes(_ => true);
                foreach (var p in Caches.Policies.Items)
                {
                    _scheduler.Enqueue(PolicyKeyPrefix + p.Metadata.Name);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private void EnqueueMeshes(Func<V1Alpha1Mesh, bool> which)
    {
        foreach (var mesh in Caches.Meshes.Items)
        {
            if (which(mesh))
            {
                _scheduler.Enqueue(mesh.Metadata.Name);
            }
        }
    }

    public void Dispose() => _scheduler.Dispose();

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Identity} leads: starting the controllers")]
    private static partial void LogLeading(ILogger log, string identity);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "leader is {Leader}")]
    private static partial void LogLeader(ILogger log, string leader);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "{Identity} lost the lease: controllers stopped")]
    private static partial void LogLost(ILogger log, string identity);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "reconcile of {Key} failed, retrying with backoff: {Error}")]
    private static partial void LogFailed(ILogger log, string key, string error, Exception exception);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "cannot read the lease {Namespace}/{Lease}: {Error}; trying again in {Seconds} s")]
    private static partial void LogLeaseUnreadable(ILogger log, string @namespace, string lease, string error, double seconds);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "{Identity} could not renew the lease: {Error}")]
    private static partial void LogRenewFailed(ILogger log, string identity, string error);
}
