using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Re6st.Agent.Babel;
using Re6st.Agent.Kube;
using Re6st.Contracts;
using Re6st.Core.Addressing;
using Re6st.Core.Arrows;
using Re6st.Core.Planning;
using Re6st.Core.Policy;
using Re6st.Runtime;

namespace Re6st.Agent.Membership;

/// <summary>
/// The cluster as one host's membership source in one mesh. It watches this host's MeshNode (the
/// operator's plan for it), the MeshNodes of each sub-mesh that plan names (by their sub-mesh
/// label: the peers, and what each publishes in its status) and the mesh's Babel key Secret. Each
/// watch keeps an in-memory copy, lists again after a disconnect and follows the plan when its
/// memberships change, so reading on every tick costs no API call. Publishing writes the status
/// subresource of this host's MeshNode, and only when it differs from what is there.
/// </summary>
public sealed partial class MeshNodeMembershipSource : IMembershipSource, IAsyncDisposable
{
    private readonly KubeApiClient _client;
    private readonly string _mesh;
    private readonly string _name;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly int _watchSeconds;
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _runs = [];
    private readonly Watch<MeshNodeObject> _self;
    private readonly Dictionary<string, Watch<MeshNodeObject>> _subMeshes = new(StringComparer.Ordinal);
    private (string Reference, Watch<SecretObject> Watch)? _keys;
    private (string Json, string? Uid, string? Over)? _written;
    private long? _readGeneration;
    private CheckedSpec? _checked;
    private readonly TimeSpan _heartbeat;
    private DateTimeOffset _beat = DateTimeOffset.MinValue;
    private long _writes;
    private long _rejected;
    private readonly Dictionary<string, (string? Version, PeerStatus? Status)> _peerStatuses = new(StringComparer.Ordinal);
    private bool _disposed;

    private MeshNodeMembershipSource(KubeApiClient client, string node, string mesh, ILogger log, TimeProvider time, int watchSeconds, TimeSpan heartbeat)
    {
        _heartbeat = heartbeat;
        _client = client;
        _mesh = mesh;
        _name = Group.MeshNodeName(node, mesh);
        _log = log;
        _time = time;
        _watchSeconds = watchSeconds;
        var self = new Informer<MeshNodeObject>($"meshnodes (metadata.name={_name})", ApiListWatch.MeshNodes(client, null, $"metadata.name={_name}", watchSeconds), log, time);
        self.Changed += (type, item, _) => Follow(type == ChangeType.Deleted ? null : item);
        _self = Run(self);
    }

    /// <summary>Starts watching <paramref name="node"/>'s MeshNode of <paramref name="mesh"/>; dispose to stop.</summary>
    /// <param name="watchSeconds">How long each watch request lasts before it is renewed from the last version seen.</param>
    /// <param name="heartbeat">The longest between two status writes (<see cref="StatusHeartbeat.Interval"/> unless given).</param>
    public static MeshNodeMembershipSource Start(
        KubeApiClient client,
        string node,
        string mesh,
        ILogger? log = null,
        TimeProvider? time = null,
        int watchSeconds = ListWatch.WatchSeconds,
        TimeSpan? heartbeat = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(node);
        ArgumentException.ThrowIfNullOrEmpty(mesh);
        return new MeshNodeMembershipSource(client, node, mesh, log ?? NullLogger.Instance, time ?? TimeProvider.System, watchSeconds, heartbeat ?? StatusHeartbeat.Interval);
    }

    /// <summary>Status writes made so far (a publish that changes nothing makes none).</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <inheritdoc/>
    public long RejectedInputs => Interlocked.Read(ref _rejected);

    /// <summary>
    /// This host's plan, policy and hello interval, and the peers of its sub-meshes with what they
    /// publish. Null until this host's MeshNode exists and the watch of each of its sub-meshes has
    /// listed once: a view without its peers would read as "every peer left".
    /// </summary>
    public Task<AgentView?> ReadAsync(CancellationToken cancellationToken)
    {
        var self = Self();
        if (self is null)
        {
            return Task.FromResult<AgentView?>(null);
        }

        var watches = Follow(self);
        if (watches.Any(w => !w.Informer.HasSynced))
        {
            return Task.FromResult<AgentView?>(null);
        }

        var spec = self.Spec;
        var own = Check(self);
        var mine = spec.Memberships.Select(m => m.SubMesh).ToHashSet(StringComparer.Ordinal);
        var peers = Newest(watches.SelectMany(w => w.Informer.Items).Where(p => p.Metadata.Name != _name))
            .OrderBy(p => p.Spec.Node, StringComparer.Ordinal)
            .Select(p => new PeerView(
                p.Spec.ToNodeInfo(),
                [.. p.Spec.Memberships.Select(m => m.SubMesh).Where(mine.Contains)],
                PeerStatusOf(p))
            {
                Prefixes = Prefixes(p.Spec),
            })
            .Where(p => p.SubMeshes.Count > 0)
            .ToList();
        _readGeneration = self.Metadata.Generation;
        Forget(peers.Select(p => p.Node.Name));
        Watch<SecretObject>? keyWatch;
        lock (_lock)
        {
            keyWatch = _keys?.Watch;
        }

        var keys = keyWatch?.Informer.Items.FirstOrDefault() is { } secret ? KeysOf(secret) : null;
        return Task.FromResult<AgentView?>(new AgentView(own.Plan, own.Policy, own.HelloInterval, peers) { Self = own.Self, Keys = keys });
    }

    /// <summary>
    /// What <paramref name="peer"/> publishes, read through <see cref="PeerInput"/>'s checks once per
    /// version of its MeshNode: each value refused is logged and counted once, not on every tick.
    /// </summary>
    private PeerStatus? PeerStatusOf(MeshNodeObject peer)
    {
        var version = peer.Metadata.ResourceVersion;
        lock (_lock)
        {
            if (version is not null && _peerStatuses.TryGetValue(peer.Spec.Node, out var known) && known.Version == version)
            {
                return known.Status;
            }
        }

        var rejected = new List<string>();
        var status = MeshNodeStatusMapping.ToPeerStatus(peer.Spec.Node, peer.Status, rejected);
        foreach (var why in rejected)
        {
            LogRejected(_log, peer.Spec.Node, why);
        }

        Interlocked.Add(ref _rejected, rejected.Count);
        lock (_lock)
        {
            _peerStatuses[peer.Spec.Node] = (version, status);
        }

        return status;
    }

    /// <summary>Drops what was read of peers that are no longer in the view.</summary>
    private void Forget(IEnumerable<string> peers)
    {
        var present = peers.ToHashSet(StringComparer.Ordinal);
        lock (_lock)
        {
            foreach (var gone in _peerStatuses.Keys.Where(k => !present.Contains(k)).ToList())
            {
                _peerStatuses.Remove(gone);
            }
        }
    }

    /// <summary>
    /// This host's own part of the view (its plan, its policy, its hello interval), parsed and
    /// checked once per generation of its MeshNode's spec rather than on every tick: the operator
    /// checked the policy before writing it, and only a new generation can change it.
    /// </summary>
    private CheckedSpec Check(MeshNodeObject self)
    {
        var generation = self.Metadata.Generation;
        if (_checked is { } known && generation is not null && known.Generation == generation && known.Uid == self.Metadata.Uid)
        {
            return known;
        }

        var spec = self.Spec;
        var policy = PolicyValidator.Validate(spec.Policy.ToCore(), "spec.policy");
        if (!policy.IsValid)
        {
            throw new InvalidDataException($"MeshNode {_name}: {string.Join("; ", policy.Errors)}");
        }

        if (!GoDuration.TryParse(spec.Babel.HelloInterval, out var hello, out var error))
        {
            throw new InvalidDataException($"MeshNode {_name}: spec.babel.helloInterval {error}");
        }

        var result = new CheckedSpec(self.Metadata.Uid, generation, spec.ToPlan(), policy.Value!, hello, spec.ToNodeInfo());
        _checked = result;
        return result;
    }

    /// <summary>A status as JSON, its churn counters left out (null for none).</summary>
    private static string? WithoutChurn(MeshNodeStatus? status)
    {
        if (status is null)
        {
            return null;
        }

        var churn = status.Churn;
        status.Churn = null;
        var json = JsonSerializer.Serialize(status, KubeJsonContext.Default.MeshNodeStatus);
        status.Churn = churn;
        return json;
    }

    private sealed record CheckedSpec(string? Uid, long? Generation, NodePlan Plan, RandomizationPolicy Policy, TimeSpan HelloInterval, NodeInfo Self);

    /// <summary>
    /// Writes <paramref name="status"/> into this host's MeshNode's status subresource (a merge
    /// patch of the fields the agent owns, and the heartbeat), unless that is what it already says
    /// and the heartbeat is not due (<see cref="StatusHeartbeat.Interval"/>). Nothing is written
    /// while the MeshNode does not exist.
    /// </summary>
    public async Task PublishAsync(PeerStatus status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        var self = Self();
        if (self is null)
        {
            return;
        }

        var desired = MeshNodeStatusMapping.ToStatus(status, _readGeneration);
        desired.ClockOffsetSeconds = _client.Clock.Seconds;
        var owned = self.Status is { } current ? MeshNodeStatusMapping.Owned(current) : null;

        // Nothing to do when the watch shows this status already, or when this source has just
        // written it and the watch has not caught up yet (it still shows the version written over),
        // unless the heartbeat is due. A status someone else changed afterwards is written again.
        // The churn counters move every period on every host; they ride along with the writes the
        // rest of the status and the heartbeat make, and cause none themselves: every status write
        // wakes every peer's watch and the operator.
        var now = _time.GetUtcNow();
        var beat = StatusHeartbeat.Parse(self.Status?.Heartbeat) is { } seen && seen > _beat ? seen : _beat;
        var due = now - beat >= _heartbeat;
        var significant = WithoutChurn(desired)!;
        if (!due && (WithoutChurn(owned) == significant || _written == (significant, self.Metadata.Uid, self.Metadata.ResourceVersion)))
        {
            return;
        }

        try
        {
            var json = JsonSerializer.Serialize(desired, KubeJsonContext.Default.MeshNodeStatus);
            var watched = owned is null ? null : JsonSerializer.Serialize(owned, KubeJsonContext.Default.MeshNodeStatus);
            var patch = StatusPatch(json, watched);
            patch["heartbeat"] = StatusHeartbeat.Format(now);
            await _client.MergePatchAsync(
                $"/apis/{Group.Name}/{Group.Version}/{Group.MeshNodePlural}/{_name}/status",
                new JsonObject { ["status"] = patch },
                cancellationToken).ConfigureAwait(false);
            _written = (significant, self.Metadata.Uid, self.Metadata.ResourceVersion);
            _beat = now;
            Interlocked.Increment(ref _writes);
        }
        catch (KubeApiException e) when (e.Status == HttpStatusCode.NotFound)
        {
            LogGone(_log, _name);
        }
    }

    /// <summary>
    /// The merge patch that makes the status say <paramref name="desired"/>: the fields the agent
    /// writes (null ones are left out of it), and an explicit null for each field it wrote before
    /// (<paramref name="watched"/>) and no longer says, such as a hand-over's deadline once the
    /// host is back. The status fields the agent does not own stay as they are.
    /// </summary>
    internal static JsonObject StatusPatch(string desired, string? watched)
    {
        var patch = JsonNode.Parse(desired)!.AsObject();
        if (watched is not null)
        {
            foreach (var (field, _) in JsonNode.Parse(watched)!.AsObject())
            {
                patch.TryAdd(field, null);
            }
        }

        return patch;
    }

    /// <summary>
    /// The mesh's Babel keys from the Secret this host's MeshNode names (<c>spec.babel.keySecret</c>),
    /// as babeld takes them; null until that Secret has been read, or when it holds no usable key.
    /// </summary>
    public Task<BabelKeyRing?> ReadKeysAsync(CancellationToken cancellationToken)
    {
        Follow(Self());
        Watch<SecretObject>? watch;
        lock (_lock)
        {
            watch = _keys?.Watch;
        }

        var secret = watch?.Informer.Items.FirstOrDefault();
        return Task.FromResult(secret is null ? null : KeysOf(secret));
    }

    public async ValueTask DisposeAsync()
    {
        Task[] runs;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            runs = [.. _runs];
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(runs).ConfigureAwait(false);
        _stop.Dispose();
    }

    private MeshNodeObject? Self() => _self.Informer.Get(_name);

    /// <summary>
    /// Watches what <paramref name="self"/> names: one watch per sub-mesh it belongs to, and its
    /// key Secret; stops the watches of what it no longer names. Returns the sub-mesh watches.
    /// </summary>
    private List<Watch<MeshNodeObject>> Follow(MeshNodeObject? self)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return [];
            }

            var wanted = self?.Spec.Memberships.Select(m => m.SubMesh).ToHashSet(StringComparer.Ordinal) ?? [];
            foreach (var gone in _subMeshes.Keys.Where(s => !wanted.Contains(s)).ToList())
            {
                _subMeshes.Remove(gone, out var watch);
                watch!.Stop();
            }

            foreach (var subMesh in wanted.Where(s => !_subMeshes.ContainsKey(s)))
            {
                var selector = $"{Group.MeshLabel}={_mesh},{Group.SubMeshLabelPrefix}{subMesh}";
                _subMeshes[subMesh] = Run(new Informer<MeshNodeObject>($"meshnodes ({selector})", ApiListWatch.MeshNodes(_client, selector, null, _watchSeconds), _log, _time));
            }

            var reference = self?.Spec.Babel.KeySecret;
            if (reference != _keys?.Reference)
            {
                _keys?.Watch.Stop();
                _keys = MeshNodeBabel.SecretOf(reference) is var (space, name) ? (reference!, Run(SecretInformer(space, name))) : null;
            }

            return [.. _subMeshes.Values];
        }
    }

    private Informer<SecretObject> SecretInformer(string @namespace, string name) =>
        new($"secret {@namespace}/{name}", ApiListWatch.Secret(_client, @namespace, name, _watchSeconds), _log, _time);

    private Watch<T> Run<T>(Informer<T> informer)
        where T : class
    {
        var stop = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        var run = Task.Run(
            async () =>
            {
                try
                {
                    await informer.RunAsync(stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }
                finally
                {
                    stop.Dispose();
                }
            },
            CancellationToken.None);
        lock (_lock)
        {
            _runs.RemoveAll(t => t.IsCompleted);
            _runs.Add(run);
        }

        return new Watch<T>(informer, stop);
    }

    /// <summary>
    /// A bridge's MeshNode is in the watches of two sub-meshes, which may not have seen its last
    /// change at the same moment: the newest copy wins, so a peer's arrows never flicker back.
    /// CAVEAT: resourceVersions are opaque by contract; those of an etcd-backed API server are
    /// etcd revisions, which only grow. When one does not read as a number the first copy stays.
    /// </summary>
    /// <summary>A peer's own prefixes per the operator; one it cannot read is left out (nothing is announced for it).</summary>
    private static List<IpPrefix> Prefixes(MeshNodeSpec spec) =>
        [.. new[] { spec.Ipv6Prefix, spec.Ipv4Prefix }.Where(p => IpPrefix.TryParse(p, out _, out _)).Select(p => IpPrefix.Parse(p!))];

    private static List<MeshNodeObject> Newest(IEnumerable<MeshNodeObject> copies)
    {
        var newest = new Dictionary<string, MeshNodeObject>(StringComparer.Ordinal);
        foreach (var copy in copies)
        {
            if (!newest.TryGetValue(copy.Metadata.Name, out var kept) || Revision(copy) > Revision(kept))
            {
                newest[copy.Metadata.Name] = copy;
            }
        }

        return [.. newest.Values];
    }

    private static ulong Revision(MeshNodeObject item) =>
        ulong.TryParse(item.Metadata.ResourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var revision) ? revision : 0;

    /// <summary>
    /// The Secret's keys: each entry a key id and its value in hex (as the operator writes them);
    /// the annotation names the one that signs. Without a valid annotation the newest key signs
    /// (ids are "k" and the creation time in Unix seconds, so the greatest id is the newest).
    /// </summary>
    private BabelKeyRing? KeysOf(SecretObject secret)
    {
        var keys = new List<BabelKey>();
        foreach (var (id, value) in (secret.Data ?? new Dictionary<string, byte[]>()).OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            try
            {
                keys.Add(new BabelKey(id, Encoding.ASCII.GetString(value).Trim()));
            }
            catch (ArgumentException e)
            {
                LogBadKey(_log, secret.Metadata.Name, id, e.Message);
            }
        }

        if (keys.Count == 0)
        {
            return null;
        }

        var signing = secret.Metadata.Annotations?.TryGetValue(Group.SigningKeyAnnotation, out var annotated) == true && keys.Any(k => k.Id == annotated)
            ? annotated
            : keys[^1].Id;
        return new BabelKeyRing(keys, signing!);
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "MeshNode {Name} is gone: status not written")]
    private static partial void LogGone(ILogger log, string name);

    [LoggerMessage(EventId = 401, Level = LogLevel.Warning, Message = "Secret {Secret}: key {Id} is left out: {Reason}")]
    private static partial void LogBadKey(ILogger log, string secret, string id, string reason);

    [LoggerMessage(EventId = 402, Level = LogLevel.Warning, Message = "{Peer}'s status: {Reason}")]
    private static partial void LogRejected(ILogger log, string peer, string reason);

    /// <summary>One running informer and what stops it (its run disposes it once stopped).</summary>
    private sealed class Watch<T>(Informer<T> informer, CancellationTokenSource stop)
        where T : class
    {
        public Informer<T> Informer { get; } = informer;

        public void Stop() => stop.Cancel();
    }
}
