using System.Net;
using System.Security.Cryptography;
using Re6st.Agent.Babel;
using Re6st.Agent.Host;
using Re6st.Agent.Lifecycle;
using Re6st.Agent.Membership;
using Re6st.Lab.Netns;
using Re6st.Core.Addressing;
using Re6st.Core.Planning;
using Re6st.Core.Policy;
using Re6st.Core.Randomness;

namespace Re6st.Lab.Agents;

/// <summary>
/// Hosts on one underlay switch, each running a <see cref="HostAgent"/> in its namespace; the test
/// plays the operator by writing each host's plan into a shared directory. The lab owns the mesh,
/// so agents that started are stopped even when starting the rest fails.
/// </summary>
public sealed class AgentMesh : IAsyncDisposable
{
    /// <summary>The id of the mesh's Babel key (a host given another key under this id speaks a language no one accepts).</summary>
    public const string KeyId = "k1";

    private static readonly TimeSpan HelloInterval = TimeSpan.FromSeconds(1);

    private readonly List<RunningAgent> _running = [];
    private readonly List<AgentProcess> _processes = [];
    private readonly Dictionary<string, string> _underlay = new(StringComparer.Ordinal);
    private readonly LabHost _switch;
    private IReadOnlyList<NodePlan> _plans = [];
    private RandomizationPolicySpec _policy = new();
    private Dictionary<string, IReadOnlyDictionary<string, string>> _labels = new(StringComparer.Ordinal);
    private int _disposed;

    private AgentMesh(NetnsLab lab, LabHost switchHost)
    {
        Lab = lab;
        _switch = switchHost;
    }

    public NetnsLab Lab { get; }

    /// <summary>The running agents, in the order of <see cref="Hosts"/>.</summary>
    public IReadOnlyList<HostAgent> Agents => [.. _running.Select(r => r.Agent)];

    /// <summary>The agents that run as processes of their own (<see cref="StartProcessesAsync"/>).</summary>
    public IReadOnlyList<AgentProcess> Processes => _processes;

    /// <summary>The hosts whose agent runs.</summary>
    public IReadOnlyList<LabHost> Hosts => [.. _running.Select(r => r.Host)];

    public HostAgent Agent(string host) => Find(host).Agent;

    public LabHost Host(string host) => Find(host).Host;

    /// <summary>One flat mesh of hand-made plans: hosts a, b, c, ... each announcing its own prefixes.</summary>
    /// <param name="labels">Node labels per host name (e.g. the firewall a technology rule names).</param>
    public static async Task<AgentMesh> StartAsync(NetnsLab lab, int hosts, RandomizationPolicySpec policy, ulong seed, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? labels = null)
    {
        var mesh = await CreateAsync(lab);
        var list = new List<LabHost>();
        foreach (var name in LabOperator.HostNames(hosts))
        {
            list.Add(await mesh.AddUnderlayHostAsync(name));
        }

        await mesh.StartAgentsAsync(list, [.. list.Select(LabOperator.FlatPlan)], policy, seed, keys: null, labels, authenticationGrace: null);
        return mesh;
    }

    /// <summary>
    /// One host per plan (e.g. the core planner's), named and numbered as the plan says. What a plan
    /// announces beyond the host's own prefixes (a bridge's aggregates) gets its kernel route, which
    /// babeld redistributes. <paramref name="keys"/> gives some hosts another Babel key than the mesh's.
    /// </summary>
    /// <param name="authenticationGrace">How long an arrow may go without authenticated Babel before it is destroyed (the agent's default when null).</param>
    public static async Task<AgentMesh> StartAsync(NetnsLab lab, IReadOnlyList<NodePlan> plans, RandomizationPolicySpec policy, ulong seed, IReadOnlyDictionary<string, BabelKey>? keys = null, TimeSpan? authenticationGrace = null)
    {
        ArgumentNullException.ThrowIfNull(plans);
        var mesh = await CreateAsync(lab);
        var list = new List<LabHost>();
        foreach (var plan in plans)
        {
            var host = await mesh.AddUnderlayHostAsync(plan.Name, plan.Ipv6Prefix, plan.Ipv4Prefix);
            foreach (var prefix in plan.Memberships.SelectMany(m => m.Announce).Distinct().Where(p => p != host.Ipv6Prefix && p != host.Ipv4Prefix))
            {
                await lab.IpAsync(host, "route", "add", "unreachable", prefix.ToString(), "proto", "static");
            }

            list.Add(host);
        }

        await mesh.StartAgentsAsync(list, plans, policy, seed, keys, labels: null, authenticationGrace);
        return mesh;
    }

    /// <summary>
    /// One flat mesh of hosts a, b, c, ... each with the real agent program as a process of its own
    /// (what the lab and the footprint figures use); plans, statuses and keys go through files.
    /// </summary>
    public static async Task<AgentMesh> StartProcessesAsync(NetnsLab lab, int hosts, RandomizationPolicySpec policy)
    {
        var mesh = await CreateAsync(lab);
        var list = new List<LabHost>();
        foreach (var name in LabOperator.HostNames(hosts))
        {
            list.Add(await mesh.AddUnderlayHostAsync(name));
        }

        var directory = lab.PathFor("membership");
        foreach (var file in LabOperator.Files([.. list.Select(LabOperator.FlatPlan)], policy, HelloInterval))
        {
            await DirectoryMembershipSource.WritePlanAsync(directory, file, CancellationToken.None);
        }

        var keyFile = lab.PathFor("babel.keys");
        await File.WriteAllTextAsync(keyFile, $"{KeyId} {Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32))}\n");
        File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        foreach (var host in list)
        {
            mesh._processes.Add(AgentProcess.Start(lab, host, UnderlayAddress(host).ToString(), directory, keyFile, FreePort()));
        }

        return mesh;
    }

    /// <summary>A host on the underlay switch, with its underlay address but no agent (yet).</summary>
    /// <param name="announce">False when the host's agent announces its prefixes itself (see <see cref="NetnsLab.AddHostAsync"/>).</param>
    public async Task<LabHost> AddUnderlayHostAsync(string name, IpPrefix? ipv6Prefix = null, IpPrefix? ipv4Prefix = null, bool announce = true)
    {
        var host = await Lab.AddHostAsync(name, ipv6Prefix, ipv4Prefix, announce);
        var (atHost, atSwitch) = await Lab.LinkAsync(host, _switch);
        await Lab.InAsync(_switch, "ip", "link", "set", atSwitch, "master", "br0");
        await Lab.IpAsync(host, "address", "add", $"{UnderlayAddress(host)}/64", "dev", atHost, "nodad");
        _underlay[name] = atHost;
        return host;
    }

    /// <summary>The interface through which <paramref name="host"/> reaches the underlay switch.</summary>
    public string UnderlayInterface(LabHost host) => _underlay[(host ?? throw new ArgumentNullException(nameof(host))).Name];

    /// <summary>Waits until every host has an installed route to every other host's prefix.</summary>
    public Task WaitConvergedAsync(TimeSpan timeout) => WaitConvergedAsync(timeout, Hosts);

    /// <summary>Waits until each of <paramref name="among"/> has an installed route to the IPv6 prefix of each other.</summary>
    public Task WaitConvergedAsync(TimeSpan timeout, IReadOnlyCollection<LabHost> among)
    {
        ArgumentNullException.ThrowIfNull(among);
        return WaitForRoutesAsync(timeout, among.ToDictionary(h => h.Name, h => (IReadOnlyCollection<IpPrefix>)[.. among.Where(o => o != h).Select(o => o.Ipv6Prefix)]));
    }

    /// <summary>Waits until each host named in <paramref name="expected"/> has an installed route to every prefix listed for it.</summary>
    public async Task WaitForRoutesAsync(TimeSpan timeout, IReadOnlyDictionary<string, IReadOnlyCollection<IpPrefix>> expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        var deadline = DateTime.UtcNow + timeout;
        List<string> missing;
        while ((missing = Missing(expected)).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        if (missing.Count > 0)
        {
            throw new TimeoutException($"no convergence within {timeout.TotalSeconds:F0} s:\n{string.Join('\n', missing)}");
        }
    }

    /// <summary>The routes babeld installed in the host's kernel, both families, as <c>ip route</c> prints them.</summary>
    public async Task<string> KernelRoutesAsync(LabHost host) =>
        (await Lab.IpAsync(host, "-6", "route", "show", "proto", "babel")).Output + (await Lab.IpAsync(host, "-4", "route", "show", "proto", "babel")).Output;

    /// <summary>Pings each pair at once; returns the failures, described.</summary>
    public async Task<IReadOnlyList<string>> PingAsync(IEnumerable<(LabHost From, LabHost To)> pairs, bool ipv4 = false, int count = 2)
    {
        var results = await Task.WhenAll(pairs.Select(async pair => (pair, result: await Lab.PingAsync(pair.From, pair.To, ipv4, count))));
        return [.. results.Where(r => r.result.ExitCode != 0).Select(r => $"{r.pair.From.Name}->{r.pair.To.Name} ({(ipv4 ? "IPv4" : "IPv6")}): {r.result.Output.Trim()}")];
    }

    /// <summary>
    /// The host dies: its underlay link goes first, so its peers hear nothing more from it (as after a
    /// crash or a cut cable, where nothing is retracted), then its agent stops and its arrow interfaces go.
    /// </summary>
    public Task KillHostAsync(string host) => KillHostsAsync(host);

    /// <summary>Several hosts die at the same moment: all their underlay links go first, then their agents stop.</summary>
    public async Task KillHostsAsync(params string[] hosts)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        var dying = hosts.Select(Find).ToList();
        await Task.WhenAll(dying.Select(r => Lab.IpAsync(r.Host, "link", "del", _underlay[r.Host.Name])));
        foreach (var running in dying)
        {
            _running.Remove(running);
            await running.DisposeAsync();
        }
    }

    /// <summary>
    /// A host's agent hands its host over, as a pod of the DaemonSet does when it is replaced: its
    /// loop stops, it asks its peers to stand in (waiting up to <paramref name="wait"/>) and kills
    /// its babeld; its tunnels and routes stay in the host's namespace (gone with the lab), and no
    /// next run comes.
    /// </summary>
    public async Task HandOverAsync(string host, TimeSpan wait)
    {
        var leaving = Find(host);
        _running.Remove(leaving);
        await leaving.HandOverAsync(wait);
    }

    /// <summary>
    /// Gives <paramref name="host"/> new Node labels (null: none), as a change of its Node's labels
    /// reaches every agent through the operator's plans: the policy's technology rules are
    /// applied again between it and its peers.
    /// </summary>
    public async Task RelabelAsync(string host, IReadOnlyDictionary<string, string>? labels)
    {
        if (labels is null)
        {
            _labels.Remove(host);
        }
        else
        {
            _labels[host] = labels;
        }

        await WritePlansAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Every agent stops even when another fails to: its babeld and tunnels must not outlive the test.
        await Task.WhenAll(_processes.Select(p => p.StopAsync(TimeSpan.FromSeconds(20))));
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        _processes.Clear();
        await Task.WhenAll(_running.Select(r => r.CancelAsync()));
        var errors = new List<Exception>();
        foreach (var running in _running)
        {
            try
            {
                await running.DisposeAsync();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                errors.Add(e);
            }
        }

        _running.Clear();
        if (errors.Count > 0)
        {
            throw new AggregateException("agents of the mesh did not stop cleanly", errors);
        }
    }

    public override string ToString() => $"agent mesh of lab {Lab.RunId}";

    /// <summary>The underlay switch alone: hosts come with <see cref="AddUnderlayHostAsync"/>, agents with <see cref="Adopt"/>.</summary>
    public static Task<AgentMesh> CreateEmptyAsync(NetnsLab lab) => CreateAsync(lab);

    /// <summary>An agent process started elsewhere, stopped with the mesh.</summary>
    public AgentProcess Adopt(AgentProcess process)
    {
        _processes.Add(process);
        return process;
    }

    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<AgentMesh> CreateAsync(NetnsLab lab)
    {
        ArgumentNullException.ThrowIfNull(lab);
        var switchHost = await lab.AddHostAsync("sw");
        await lab.InAsync(switchHost, "ip", "link", "add", "br0", "type", "bridge");
        await lab.InAsync(switchHost, "ip", "link", "set", "br0", "up");
        return lab.Own(new AgentMesh(lab, switchHost));
    }

    /// <summary>A host's address on the underlay switch.</summary>
    public static IPAddress UnderlayAddress(LabHost host) => IPAddress.Parse($"fd5e:ff00::{(host ?? throw new ArgumentNullException(nameof(host))).Index:x}");

    private async Task StartAgentsAsync(IReadOnlyList<LabHost> hosts, IReadOnlyList<NodePlan> plans, RandomizationPolicySpec policy, ulong seed, IReadOnlyDictionary<string, BabelKey>? keys, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? labels, TimeSpan? authenticationGrace)
    {
        (_plans, _policy) = (plans, policy);
        _labels = labels?.ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal) ?? new(StringComparer.Ordinal);
        await WritePlansAsync();
        var directory = Lab.PathFor("membership");

        var key = BabelKey.FromBytes(KeyId, RandomNumberGenerator.GetBytes(32));
        foreach (var host in hosts)
        {
            var options = new AgentOptions(host.Name, Lab.PathFor("agent-" + host.Name), UnderlayAddress(host), keys?.GetValueOrDefault(host.Name) ?? key)
            {
                InterfacePrefix = Lab.RunId + host.Name,
                PoolSize = 16,
                AuthenticationGrace = authenticationGrace ?? TimeSpan.FromSeconds(30),
            };
            var agent = new HostAgent(options, new DirectoryMembershipSource(directory, host.Name), new HostShell(host.Namespace), TimeProvider.System, Xoshiro256StarStar.ForStream(seed, (ulong)host.Index), Lab.Log);
            _running.Add(new RunningAgent(host, agent));
        }

        await Task.WhenAll(_running.Select(r => r.Agent.StartAsync(CancellationToken.None)));
        foreach (var running in _running)
        {
            running.Run();
        }
    }

    /// <summary>What the operator writes for each host (LabOperator.Files), with the hosts' labels as they are now.</summary>
    private async Task WritePlansAsync()
    {
        foreach (var file in LabOperator.Files(_plans, _policy, HelloInterval, _labels))
        {
            await DirectoryMembershipSource.WritePlanAsync(Lab.PathFor("membership"), file, CancellationToken.None);
        }
    }

    private List<string> Missing(IReadOnlyDictionary<string, IReadOnlyCollection<IpPrefix>> expected) =>
        [.. expected
            .Select(e => (Agent: Agent(e.Key), Missing: e.Value.Where(p => Agent(e.Key).Babel.InstalledRouteTo(p) is null).ToList()))
            .Where(m => m.Missing.Count > 0)
            .Select(m => $"{m.Agent.Node}: {m.Agent.Arrows.Count} arrows, {m.Agent.Babel.InstalledRouteCount} routes, missing {string.Join(", ", m.Missing)}")];

    private RunningAgent Find(string host) =>
        _running.FirstOrDefault(r => r.Host.Name == host) ?? throw new KeyNotFoundException($"no agent runs on host '{host}'");

    /// <summary>One host's agent and the loop that runs it until stopped.</summary>
    private sealed class RunningAgent(LabHost host, HostAgent agent) : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private Task _run = Task.CompletedTask;

        public LabHost Host { get; } = host;

        public HostAgent Agent { get; } = agent;

        public void Run() => _run = Task.Run(() => Agent.RunAsync(_stop.Token));

        public Task CancelAsync() => _stop.CancelAsync();

        /// <summary>Stops the loop, hands the host over, then disposes of the agent (which leaves what the hand-over keeps).</summary>
        public async Task HandOverAsync(TimeSpan wait)
        {
            await _stop.CancelAsync();
            await _run;
            await Agent.HandOverAsync(wait, CancellationToken.None);
            await Agent.DisposeAsync();
            _stop.Dispose();
        }

        /// <summary>Stops the loop, then the agent (babeld, tunnels, drain table).</summary>
        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _run;
            await Agent.DisposeAsync();
            _stop.Dispose();
        }
    }
}
