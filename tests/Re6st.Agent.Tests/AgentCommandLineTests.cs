using Re6st.Agent.Tracing;
using Re6st.Core.Policy;
using Re6st.Runtime;

namespace Re6st.Agent.Tests;

public sealed class AgentCommandLineTests
{
    private static readonly Dictionary<string, string> Pod = new() { ["NODE_NAME"] = "host-1", ["HOST_IP"] = "2001:db8::7" };

    [Fact]
    public void InCluster_TakesNodeAndUnderlayFromTheDownwardApi_WithDefaults()
    {
        var line = AgentCommandLine.Parse(["--in-cluster"], Pod.GetValueOrDefault);
        Assert.Equal("host-1", line.Agent.Node);
        Assert.Equal("2001:db8::7", line.Agent.Underlay.ToString());
        Assert.Equal("default", line.Agent.Mesh);
        Assert.Equal("/var/lib/re6st", line.Agent.StateDirectory);
        Assert.Equal(TunnelTechnology.All, line.Agent.Technologies);
        Assert.Equal(("+", 9652), line.Metrics);
        Assert.True(line.InCluster);
    }

    [Fact]
    public void Options_OverrideTheEnvironment()
    {
        var line = AgentCommandLine.Parse(
            ["--node", "b", "--underlay", "10.0.0.2", "--mesh", "prod", "--membership-dir", "/tmp/m", "--babel-key-file", "/tmp/k", "--metrics", "127.0.0.1:9700", "--technologies", "wireguard", "--netns", "ns-b", "--pool-size", "8"],
            Pod.GetValueOrDefault);
        Assert.Equal(("b", "10.0.0.2", "prod"), (line.Agent.Node, line.Agent.Underlay.ToString(), line.Agent.Mesh));
        Assert.Equal(("127.0.0.1", 9700), line.Metrics);
        Assert.Equal(TunnelTechnology.WireGuard, line.Agent.Technologies);
        Assert.Equal(("/tmp/m", "/tmp/k", "ns-b", 8), (line.MembershipDirectory, line.BabelKeyFile, line.Netns, line.Agent.PoolSize));
    }

    [Fact]
    public void OnStop_IsAutoByDefault_NamesItsDaemonSetFromThePod_AndRejectsOtherValues()
    {
        var pod = new Dictionary<string, string>(Pod) { ["POD_NAMESPACE"] = "re6st-system", ["RE6ST_DAEMONSET"] = "re6st-agent-demo" };
        var line = AgentCommandLine.Parse(["--in-cluster"], pod.GetValueOrDefault);
        Assert.Equal(StopMode.Auto, line.OnStop);
        Assert.Equal(("re6st-system", "re6st-agent-demo"), line.DaemonSet);
        Assert.Null(AgentCommandLine.Parse(["--in-cluster"], Pod.GetValueOrDefault).DaemonSet);
        Assert.Equal(StopMode.HandOver, AgentCommandLine.Parse(["--in-cluster", "--on-stop", "hand-over"], Pod.GetValueOrDefault).OnStop);
        Assert.Equal(StopMode.Clean, AgentCommandLine.Parse(["--in-cluster", "--on-stop", "clean"], Pod.GetValueOrDefault).OnStop);
        var e = Assert.Throws<FormatException>(() => AgentCommandLine.Parse(["--in-cluster", "--on-stop", "later"], Pod.GetValueOrDefault));
        Assert.Contains("--on-stop", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MetricsOff_DisablesTheEndpoint() =>
        Assert.Null(AgentCommandLine.Parse(["--in-cluster", "--metrics", "off"], Pod.GetValueOrDefault).Metrics);

    [Fact]
    public void Seed_IsOptional_AndParsed()
    {
        Assert.Null(AgentCommandLine.Parse(["--in-cluster"], Pod.GetValueOrDefault).Seed);
        Assert.Equal(18446744073709551615UL, AgentCommandLine.Parse(["--in-cluster", "--seed", "18446744073709551615"], Pod.GetValueOrDefault).Seed);
    }

    [Theory]
    [InlineData(new[] { "--in-cluster", "--bogus" }, "--bogus: unknown option")]
    [InlineData(new[] { "--in-cluster", "--node" }, "--node: a value is missing")]
    [InlineData(new string[0], "exactly one membership source")]
    [InlineData(new[] { "--in-cluster", "--kubeconfig", "k" }, "exactly one membership source")]
    [InlineData(new[] { "--membership-dir", "/m" }, "--babel-key-file: goes with --membership-dir")]
    [InlineData(new[] { "--in-cluster", "--underlay", "host.example" }, "--underlay: 'host.example' is not an IP address")]
    [InlineData(new[] { "--in-cluster", "--metrics", "9652" }, "--metrics: '9652' is not HOST:PORT")]
    [InlineData(new[] { "--in-cluster", "--technologies", "openvpn" }, "--technologies: wireguard is required")]
    [InlineData(new[] { "--in-cluster", "--technologies", "ipsec" }, "--technologies: 'ipsec' is not a technology")]
    [InlineData(new[] { "--in-cluster", "--pool-size", "0" }, "--pool-size: '0' is not a number from 1 to 255")]
    [InlineData(new[] { "--in-cluster", "--traces", "collector:4317" }, "--traces: 'collector:4317' is not an http:// or https:// URL (or 'off')")]
    [InlineData(new[] { "--in-cluster", "--traces", "" }, "--traces: '' is not an http:// or https:// URL")]
    [InlineData(new[] { "--in-cluster", "--seed", "-1" }, "--seed: '-1' is not a whole number")]
    public void BadCommandLine_NamesTheOptionAndTheReason(string[] args, string expected)
    {
        var e = Assert.Throws<FormatException>(() => AgentCommandLine.Parse(args, Pod.GetValueOrDefault));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Traces_AreOffByDefault_OnWithTheStandardVariables_AndTheOptionWins()
    {
        AgentCommandLine Parse(string[] args, params (string Name, string Value)[] variables) =>
            AgentCommandLine.Parse(["--in-cluster", .. args], v => variables.FirstOrDefault(x => x.Name == v).Value ?? Pod.GetValueOrDefault(v));

        var off = Parse([]).Traces;
        Assert.False(off.Enabled);
        Assert.Null(TraceExport.Start(off, "re6st-agent", "host-1", AgentTracing.SourceName));

        var fromEnvironment = Parse([], ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")).Traces;
        Assert.True(fromEnvironment.Enabled);
        Assert.Null(fromEnvironment.Endpoint);
        Assert.True(Parse([], ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://collector:4318/v1/traces")).Traces.Enabled);
        Assert.False(Parse([], ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"), ("OTEL_SDK_DISABLED", "true")).Traces.Enabled);

        Assert.False(Parse(["--traces", "off"], ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")).Traces.Enabled);
        var given = Parse(["--traces", "http://otel.monitoring:4317"], ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")).Traces;
        Assert.True(given.Enabled);
        Assert.Equal(new Uri("http://otel.monitoring:4317"), given.Endpoint);

        var e = Assert.Throws<FormatException>(() => Parse([], ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")));
        Assert.Equal("OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317' is not an http:// or https:// URL", e.Message);
    }

    [Fact]
    public void MissingNode_SaysWhereItComesFrom()
    {
        var e = Assert.Throws<FormatException>(() => AgentCommandLine.Parse(["--in-cluster"], _ => null));
        Assert.Equal("--node: required (or set NODE_NAME)", e.Message);
    }

    [Fact]
    public void KeyFile_FirstKeySigns_BadLinesNameTheirNumber()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "# mesh keys\nk2 00112233445566778899aabbccddeeff\n\nk1 ffeeddccbbaa99887766554433221100\n");
            var keys = AgentCommandLine.ReadKeys(file);
            Assert.Equal(["k2", "k1"], keys.Select(k => k.Id));

            File.WriteAllText(file, "k1 0011\nk2 not-hex\n");
            var e = Assert.Throws<FormatException>(() => AgentCommandLine.ReadKeys(file));
            Assert.Contains("line 2", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
