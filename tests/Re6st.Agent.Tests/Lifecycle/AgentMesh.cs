using System.Net;
using System.Security.Cryptography;
using Re6st.Agent.Babel;
using Re6st.Agent.Host;
using Re6st.Agent.Lifecycle;
using Re6st.Agent.Membership;
using Re6st.Agent.Tests.Lab;
using Re6st.Core.Addressing;
using Re6st.Core.Planning;
using Re6st.Core.Policy;
using Re6st.Core.Randomness;

namespace Re6st.Agent.Tests.Lifecycle;

/// <summary>
/// Hosts on one underlay switch, each running a <see cref="HostAgent"/> in its namespace; the test
/// plays the operator by writing each host's plan into a shared directory.
/// </summary>
public sealed class AgentMesh : IAsyncDisposable
{
    private readonly List<HostAgent> _agents = [];
    private readonly List<Task> _runs = [];
    private readonly CancellationTokenSource _stop = new();

    private AgentMesh(NetnsLab lab) => Lab = lab;

    public NetnsLab Lab { get; }

    public IReadOnlyList<HostAgent> Agents => _agents;

    public IReadOnlyList<LabHost> Hosts { get; private set; } = [];

    /// <param name="labels">Node labels per host name (e.g. the firewall a technology rule names).</param>
    public static async Task<AgentMesh> StartAsync(NetnsLab lab, int hosts, RandomizationPolicySpec policy, ulong seed, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? labels = null)
    {
        var mesh = new AgentMesh(lab);
        var names = Enumerable.Range(0, hosts).Select(i => ((char)('a' + i)).ToString()).ToList();
        var switchHost = await lab.AddHostAsync("sw");
        await lab.InAsync(switchHost, "ip", "link", "add", "br0", "type", "bridge");
        await lab.InAsync(switchHost, "ip", "link", "set", "br0", "up");
        var list = new List<LabHost>();
        foreach (var name in names)
        {
            var host = await lab.AddHostAsync(name);
            var (atHost, atSwitch) = await lab.LinkAsync(host, switchHost);
            await lab.InAsync(switchHost, "ip", "link", "set", atSwitch, "master", "br0");
            await lab.IpAsync(host, "address", "add", UnderlayOf(host) + "/64", "dev", atHost, "nodad");
            list.Add(host);
        }

        mesh.Hosts = list;
        var directory = lab.PathFor("membership");
        var range = IpPrefix.Parse("fd5e:6a00::/48");
        foreach (var host in list)
        {
            var announce = new List<IpPrefix> { host.Ipv6Prefix, host.Ipv4Prefix };
            var plan = new NodePlan(host.Name, "root", host.Ipv6Prefix, host.Ipv4Prefix,
                [new MembershipPlan("root", MembershipRole.Home, null, range, null, announce, [])]);
            MemberFile Member(LabHost h) => new(h.Name, ["root"]) { Labels = labels?.GetValueOrDefault(h.Name) };
            var members = list.Where(h => h != host).Select(Member).ToList();
            await DirectoryMembershipSource.WritePlanAsync(directory, new PlanFile(plan, policy, TimeSpan.FromSeconds(1), members) { Self = Member(host) }, CancellationToken.None);
        }

        var key = BabelKey.FromBytes("k1", RandomNumberGenerator.GetBytes(32));
        foreach (var host in list)
        {
            var options = new AgentOptions(host.Name, lab.PathFor("agent-" + host.Name), IPAddress.Parse(UnderlayOf(host)), key)
            {
                InterfacePrefix = lab.RunId + host.Name,
                PoolSize = 16,
            };
            var agent = new HostAgent(options, new DirectoryMembershipSource(directory, host.Name), new HostShell(host.Namespace), TimeProvider.System, Xoshiro256StarStar.ForStream(seed, (ulong)host.Index), lab.Log);
            mesh._agents.Add(agent);
        }

        await Task.WhenAll(mesh._agents.Select(a => a.StartAsync(CancellationToken.None)));
        foreach (var agent in mesh._agents)
        {
            mesh._runs.Add(Task.Run(() => agent.RunAsync(mesh._stop.Token)));
        }

        return mesh;
    }

    /// <summary>A host's address on the underlay switch.</summary>
    public static string UnderlayOf(LabHost host) => $"fd5e:ff00::{host.Index:x}";

    /// <summary>Waits until every host has an installed route to every other host's prefix.</summary>
    public async Task WaitConvergedAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_agents.All(a => Hosts.Where(h => h.Name != a.Node).All(h => a.Babel.InstalledRouteTo(h.Ipv6Prefix) is not null)))
            {
                return;
            }

            await Task.Delay(250);
        }

        var missing = _agents.Select(a => $"{a.Node}: {a.Arrows.Count} arrows, {a.Babel.InstalledRouteCount} routes, missing {string.Join(",", Hosts.Where(h => h.Name != a.Node && a.Babel.InstalledRouteTo(h.Ipv6Prefix) is null).Select(h => h.Name))}");
        throw new TimeoutException($"no convergence within {timeout.TotalSeconds:F0} s:\n{string.Join('\n', missing)}");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_runs);
        foreach (var agent in _agents)
        {
            await agent.DisposeAsync();
        }

        _stop.Dispose();
    }
}
