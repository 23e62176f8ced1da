using Re6st.Integration.Tests.Fixtures;
using Re6st.Operator.Resources;

namespace Re6st.Integration.Tests;

[Collection(ApiServerGroup.Name)]
public sealed class LeaderElectionTests(ApiServer server)
{
    private readonly Cluster _cluster = new(server);

    [Fact]
    public async Task TwoReplicas_OneLeads_AndTheOtherTakesOverWhenItStops()
    {
        var a = await OperatorRun.StartAsync(server, leaderElection: true, identity: "replica-a");
        var b = await OperatorRun.StartAsync(server, leaderElection: true, identity: "replica-b");
        try
        {
            await Cluster.EventuallyAsync(() => Task.FromResult(a.Host.IsLeading || b.Host.IsLeading), x => x, TimeSpan.FromSeconds(30), "a leader");
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.True(a.Host.IsLeading ^ b.Host.IsLeading, "exactly one replica leads");
            var (leader, standby) = a.Host.IsLeading ? (a, b) : (b, a);
            await leader.DisposeAsync();
            await FailoverAsync(standby);
        }
        finally
        {
            await a.DisposeAsync();
            await b.DisposeAsync();
        }
    }

    private async Task FailoverAsync(OperatorRun standby)
    {
        // The lease (15 s) must expire before the standby can take it.
        await Cluster.EventuallyAsync(() => Task.FromResult(standby.Host.IsLeading), x => x, TimeSpan.FromSeconds(40), "the standby leads");
        await standby.Host.Ready.WaitAsync(TimeSpan.FromSeconds(30));
        var test = Cluster.NewName("failover");
        await _cluster.CreateNodesAsync(test, 2, new Dictionary<string, string> { ["re6st.io/test"] = test });
        await _cluster.CreateAsync(Cluster.Mesh(test, test), V1Alpha1Mesh.Plural);
        await _cluster.PlannedMeshAsync(test, 2, standby.Log);
        await _cluster.DeleteMeshAsync(test);
        await Cluster.EventuallyAsync(() => _cluster.MeshAsync(test), m => m is null, TimeSpan.FromSeconds(30), "deleted", standby.Log);
    }
}
