using Re6st.Agent.Babel;

namespace Re6st.Lab.Netns;

/// <summary>The production babeld supervisor and control client, for one lab host.</summary>
public sealed class LabBabeld : IAsyncDisposable
{
    private LabBabeld(LabHost host, BabelConfig config, string configPath, BabeldProcess process, BabelControlClient control)
    {
        Host = host;
        Config = config;
        ConfigPath = configPath;
        Process = process;
        Control = control;
    }

    public LabHost Host { get; }

    public BabelConfig Config { get; }

    public string ConfigPath { get; }

    public BabeldProcess Process { get; }

    public BabelControlClient Control { get; }

    public BabelState State => Control.State;

    /// <summary>The host's prefixes announced, hello every second (converges in about 2 s).</summary>
    public static BabelConfig ConfigFor(NetnsLab lab, LabHost host, IEnumerable<BabelInterfaceConfig> interfaces, BabelKey? key = null) =>
        new(lab.PathFor($"{host.Name}.sock"), [.. interfaces], [host.Ipv6Prefix, host.Ipv4Prefix])
        {
            HelloInterval = TimeSpan.FromSeconds(1),
            Keys = key is null ? [] : [key],
            DefaultKeyId = key?.Id,
        };

    public static LabBabeld Start(NetnsLab lab, LabHost host, BabelConfig config)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(host);
        var configPath = lab.PathFor($"{host.Name}.conf");
        BabelConfigFile.Write(configPath, config);
        var options = BabeldOptions.For(configPath, config) with { NetworkNamespace = host.Namespace, StopTimeout = TimeSpan.FromSeconds(3) };
        var process = new BabeldProcess(options, log: line => lab.Log($"{host.Name}: {line}"));
        var control = new BabelControlClient(config.ControlSocketPath, log: line => lab.Log($"{host.Name}: {line}"));
        var babeld = lab.Own(new LabBabeld(host, config, configPath, process, control));
        process.Start();
        control.Start();
        return babeld;
    }

    /// <summary>Waits (bounded) for a connected state that satisfies <paramref name="condition"/>.</summary>
    public Task<BabelState> WaitForAsync(Func<BabelState, bool> condition, int seconds = 20) =>
        Control.WaitForAsync(s => s.Connected && condition(s), TimeSpan.FromSeconds(seconds));

    public async ValueTask DisposeAsync()
    {
        await Control.DisposeAsync();
        await Process.DisposeAsync();
    }

    public override string ToString() => $"babeld of {Host}";
}
