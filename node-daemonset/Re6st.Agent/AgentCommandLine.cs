using System.Globalization;
using System.Net;
using Re6st.Agent.Babel;
using Re6st.Agent.Lifecycle;
using Re6st.Core.Policy;
using Re6st.Runtime;

namespace Re6st.Agent;

/// <summary>
/// The agent's command line, with defaults from the environment a DaemonSet pod gets through the
/// downward API (NODE_NAME, HOST_IP). Every error names the option and says what is wrong.
/// </summary>
public sealed record AgentCommandLine
{
    public const string Usage = """
        usage: re6st-agent --node NAME --underlay ADDRESS [--mesh NAME]
                           (--kubeconfig FILE | --in-cluster | --membership-dir DIR --babel-key-file FILE)
                           [--state-dir DIR] [--netns NAME] [--metrics HOST:PORT] [--interface-prefix P]
                           [--technologies wireguard,openvpn] [--pool-size N] [--seed N] [--traces URL|off]
                           [--on-stop auto|hand-over|clean] [--cni-conf-dir DIR]
          --node          this host's name (default: $NODE_NAME)
          --underlay      the address peers reach this host at (default: $HOST_IP)
          --mesh          the mesh this agent serves (default: $RE6ST_MESH, else "default")
          --metrics       where Prometheus scrapes (default 0.0.0.0:9652; "off" to disable)
          --netns         run the host's network commands in this network namespace (the lab)
          --seed          seed of this host's arrow draws, mixed with its name (default: fresh at each start)
          --traces        the OTLP collector spans go to (default: $OTEL_EXPORTER_OTLP_ENDPOINT, else off)
          --on-stop       on SIGTERM: clean (remove every tunnel, route and announcement), hand-over (leave
                          them to the agent's next run, its peers standing in meanwhile), or auto (default):
                          hand over while the DaemonSet $RE6ST_DAEMONSET in $POD_NAMESPACE and this host's
                          MeshNode remain, clean when either is gone (helm uninstall, host left the mesh)
          --cni-conf-dir  where the host's CNI configuration goes when the mesh carries pods
                          (default /etc/cni/net.d)
        """;

    public required AgentOptions Agent { get; init; }

    public string? Kubeconfig { get; init; }

    public bool InCluster { get; init; }

    public string? MembershipDirectory { get; init; }

    public string? BabelKeyFile { get; init; }

    public string? Netns { get; init; }

    /// <summary>Seed of the arrow draws (with the node's name); null for a fresh one at each start.</summary>
    public ulong? Seed { get; init; }

    /// <summary>Host and port of the metrics endpoint; null when disabled.</summary>
    public (string Host, int Port)? Metrics { get; init; } = ("+", 9652);

    public TraceTarget Traces { get; init; } = TraceTarget.Off;

    public StopMode OnStop { get; init; } = StopMode.Auto;

    /// <summary>The DaemonSet that runs this agent and its namespace ($RE6ST_DAEMONSET, $POD_NAMESPACE), for <see cref="StopMode.Auto"/>.</summary>
    public (string Namespace, string Name)? DaemonSet { get; init; }

    public static AgentCommandLine Parse(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var flags = new HashSet<string>(StringComparer.Ordinal);
        string[] valued = ["--node", "--underlay", "--mesh", "--kubeconfig", "--membership-dir", "--babel-key-file", "--state-dir", "--netns", "--metrics", "--interface-prefix", "--technologies", "--pool-size", "--seed", "--traces", "--on-stop", "--cni-conf-dir"];
        string[] switches = ["--in-cluster"];
        for (var i = 0; i < args.Count; i++)
        {
            if (switches.Contains(args[i]))
            {
                flags.Add(args[i]);
            }
            else if (valued.Contains(args[i]))
            {
                values[args[i]] = i + 1 < args.Count ? args[++i] : throw new FormatException($"{args[i]}: a value is missing");
            }
            else
            {
                throw new FormatException($"{args[i]}: unknown option");
            }
        }

        string? Value(string option, string? variable = null) => values.GetValueOrDefault(option) ?? (variable is null ? null : environment(variable));
        var node = Value("--node", "NODE_NAME") ?? throw new FormatException("--node: required (or set NODE_NAME)");
        var underlayText = Value("--underlay", "HOST_IP") ?? throw new FormatException("--underlay: required (or set HOST_IP)");
        if (!IPAddress.TryParse(underlayText, out var underlay))
        {
            throw new FormatException($"--underlay: '{underlayText}' is not an IP address");
        }

        var sources = new[] { values.ContainsKey("--kubeconfig"), flags.Contains("--in-cluster"), values.ContainsKey("--membership-dir") }.Count(x => x);
        if (sources != 1)
        {
            throw new FormatException("--kubeconfig, --in-cluster, --membership-dir: exactly one membership source is needed");
        }

        if (values.ContainsKey("--membership-dir") != values.ContainsKey("--babel-key-file"))
        {
            throw new FormatException("--babel-key-file: goes with --membership-dir (in a cluster the keys come from the mesh's Secret)");
        }

        var options = new AgentOptions(node, Value("--state-dir") ?? "/var/lib/re6st", underlay, Placeholder)
        {
            Mesh = Value("--mesh", "RE6ST_MESH") ?? "default",
        };
        if (Value("--interface-prefix") is { } prefix)
        {
            options = options with { InterfacePrefix = prefix.Length is > 0 and <= 11 && prefix.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') && prefix[0] != 'z'
                ? prefix
                : throw new FormatException($"--interface-prefix: '{prefix}' must be 1 to 11 letters, digits, '-' or '_', not starting with 'z' (names are prefix + 3 characters, and their tombstones 'z' + name, within Linux's 15)") };
        }

        if (Value("--cni-conf-dir") is { } cni)
        {
            options = options with { CniConfDirectory = Path.IsPathFullyQualified(cni) ? cni : throw new FormatException($"--cni-conf-dir: '{cni}' is not an absolute path") };
        }

        if (Value("--pool-size") is { } pool)
        {
            options = options with { PoolSize = int.TryParse(pool, CultureInfo.InvariantCulture, out var n) && n is > 0 and <= 255 ? n : throw new FormatException($"--pool-size: '{pool}' is not a number from 1 to 255") };
        }

        if (Value("--technologies") is { } technologies)
        {
            var set = TunnelTechnology.None;
            foreach (var name in technologies.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                set |= TunnelTechnologyNames.TryParse(name, out var t) ? t : throw new FormatException($"--technologies: '{name}' is not a technology ({string.Join(", ", TunnelTechnologyNames.Known)})");
            }

            options = options with { Technologies = (set & TunnelTechnology.WireGuard) != 0 ? set : throw new FormatException("--technologies: wireguard is required (every host must be able to reach every other)") };
        }

        return new AgentCommandLine
        {
            Agent = options,
            Kubeconfig = Value("--kubeconfig"),
            InCluster = flags.Contains("--in-cluster"),
            MembershipDirectory = Value("--membership-dir"),
            BabelKeyFile = Value("--babel-key-file"),
            Netns = Value("--netns"),
            Seed = Value("--seed") is { } seed ? (ulong.TryParse(seed, NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : throw new FormatException($"--seed: '{seed}' is not a whole number from 0 to {ulong.MaxValue}")) : null,
            Metrics = Value("--metrics", "RE6ST_METRICS") is { } metrics ? MetricsEndpoint.ParseAddress(metrics) : ("+", 9652),
            Traces = TraceTarget.Parse(Value("--traces"), environment),
            OnStop = Value("--on-stop") switch
            {
                null or "auto" => StopMode.Auto,
                "hand-over" => StopMode.HandOver,
                "clean" => StopMode.Clean,
                var other => throw new FormatException($"--on-stop: '{other}' is not one of auto, hand-over, clean"),
            },
            DaemonSet = environment("POD_NAMESPACE") is { Length: > 0 } ns && environment("RE6ST_DAEMONSET") is { Length: > 0 } ds ? (ns, ds) : null,
        };
    }

    /// <summary>"id hex" lines (blank lines and # comments skipped); the first key signs.</summary>
    public static IReadOnlyList<BabelKey> ReadKeys(string path)
    {
        var keys = new List<BabelKey>();
        foreach (var (line, number) in File.ReadLines(path).Select((l, i) => (l.Trim(), i + 1)))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            try
            {
                keys.Add(parts.Length == 2 ? new BabelKey(parts[0], parts[1]) : throw new ArgumentException("expected 'id hexvalue'"));
            }
            catch (ArgumentException e)
            {
                throw new FormatException($"--babel-key-file: {path} line {number}: {e.Message}", e);
            }
        }

        return keys.Count > 0 ? keys : throw new FormatException($"--babel-key-file: {path} holds no key");
    }

    // Replaced by the mesh's real key once the membership source has it.
    private static readonly BabelKey Placeholder = new("unset", "00");
}

/// <summary>What the agent does on SIGTERM (see <see cref="AgentCommandLine.Usage"/>).</summary>
public enum StopMode
{
    Auto,
    HandOver,
    Clean,
}
