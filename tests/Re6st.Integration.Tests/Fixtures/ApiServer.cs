using k8s;
using Re6st.Agent.Kube;
using Re6st.Lab;
using Re6st.Testing;

namespace Re6st.Integration.Tests.Fixtures;

/// <summary>One real etcd + kube-apiserver shared by the tests of the collection (see <see cref="LocalApiServer"/>).</summary>
public sealed class ApiServer : IAsyncLifetime, IAsyncDisposable
{
    public const string OperatorNamespace = LocalApiServer.OperatorNamespace;

    private readonly LocalApiServer _server = new(Repository.Root);

    public string AdminKubeconfig => _server.AdminKubeconfig;

    public string OperatorKubeconfig => _server.OperatorKubeconfig;

    public Kubernetes Admin => _server.Admin;

    public Kubernetes Operator => _server.Operator;

    public Kubernetes Agent => _server.Agent;

    public KubeApiClient AgentApi => _server.AgentApi;

    public Task InitializeAsync() => _server.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    async ValueTask IAsyncDisposable.DisposeAsync() => await _server.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ApiServerGroup : ICollectionFixture<ApiServer>
{
    public const string Name = "kube-apiserver";
}
