using System.Globalization;
using System.Text;
using Re6st.Core.Addressing;

namespace Re6st.Agent.Babel;

/// <summary>Renders a <see cref="BabelConfig"/> as babeld 1.12's configuration file. Pure: same input, same text.</summary>
public static class BabelConfigWriter
{
    // sun_path holds 108 bytes including the terminating NUL.
    private const int MaxSocketPathBytes = 107;

    // Linux IFNAMSIZ is 16 including the NUL.
    private const int MaxInterfaceNameLength = 15;

    /// <summary>The metric of a stand-in announcement: more than a route of several hops over arrows (rxcost 96 each) would cost.</summary>
    public const int StandInMetric = 1024;

    private static readonly TimeSpan MinHello = TimeSpan.FromMilliseconds(10);

    // babeld carries intervals in centiseconds in a 16-bit field.
    private static readonly TimeSpan MaxHello = TimeSpan.FromSeconds(655);

    public static string Write(BabelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Validate(config);

        var text = new StringBuilder();
        text.Append("# babeld.conf of the re6st host agent. babeld reads it at start-up only: its filters\n");
        text.Append("# and interface names cannot change while it runs.\n");

        // Several babelds share one machine (one per network namespace in tests, the host's in
        // production): a random router-id avoids deriving equal ids from equal MACs, and the
        // default state and pid files are machine-wide paths. A state file only preserves the
        // sequence number of a persistent router-id, which a random one does not need.
        // CAVEAT: with "" babeld prints "creat(babel-state): No such file or directory" when it
        // exits; harmless. Never point it at /dev/null: babeld unlinks its state file at start-up.
        text.Append("random-id true\n");
        text.Append("state-file \"\"\n");
        text.Append("pid-file \"\"\n");
        Line(text, $"local-path-readwrite {config.ControlSocketPath}");
        Line(text, $"link-detect {Bool(config.LinkDetect)}");

        // Should a source-specific route ever arrive, install it natively instead of through extra
        // tables and ip rules in the host's policy routing.
        text.Append("ipv6-subtrees true\n");

        if (config.Keys.Count > 0)
        {
            text.Append('\n');
            foreach (var key in config.Keys)
            {
                Line(text, $"key id {key.Id} type {KeyType(key.Type)} value {key.HexValue}");
            }
        }

        // The default also covers interfaces added later through the control socket, so none can
        // appear unauthenticated or with the wrong cost model by omission.
        text.Append('\n');
        var defaults = new StringBuilder("default");
        Parameters(defaults, config.HelloInterval, rxCost: null, config.DefaultKeyId);
        Line(text, defaults.ToString());

        foreach (var ifc in config.Interfaces)
        {
            var line = new StringBuilder($"interface {ifc.Name}");
            Parameters(line, ifc.HelloInterval ?? config.HelloInterval, ifc.RxCost, ifc.KeyId ?? config.DefaultKeyId);
            Line(text, line.ToString());
        }

        // babeld applies the first matching rule of each filter; a route no rule matches is allowed.
        var filters = config.Interfaces.SelectMany(i => i.DenyOut.Select(f => f.ToBabel(i.Name))).ToList();
        if (filters.Count > 0)
        {
            text.Append('\n');
            foreach (var filter in filters)
            {
                Line(text, filter);
            }
        }

        // Redistribution is of kernel routes (any protocol but "boot"); by default babeld would also
        // announce every local address and nothing tells it to stop at our prefixes, so everything
        // else is denied explicitly.
        text.Append('\n');
        foreach (var prefix in config.Announce)
        {
            Line(text, $"redistribute ip {prefix} eq {prefix.Length} allow");

            // A host-length prefix (a node's IPv4 /32) is usually just an address on lo, which
            // the kernel keeps as a local route only.
            if (prefix.Length == prefix.Width)
            {
                Line(text, $"redistribute local ip {prefix} eq {prefix.Length} allow");
            }
        }

        // A peer's prefixes this host stands in for while the peer's agent hands over (HandOver):
        // routes the agent adds with their own protocol, announced with a metric above any real
        // route's so that the peer's own announcement wins whenever it is heard.
        Line(text, $"redistribute proto {Lifecycle.StandInRoutes.Protocol} metric {StandInMetric}");
        text.Append("redistribute local deny\n");
        text.Append("redistribute deny\n");
        return text.ToString();
    }

    private static void Parameters(StringBuilder line, TimeSpan hello, int? rxCost, string? keyId)
    {
        // link-quality on a tunnel: loss raises the cost, which is how a drained arrow (its Babel
        // packets dropped, its data still flowing) loses its routes without losing a packet.
        line.Append(" type tunnel link-quality true");
        line.Append(CultureInfo.InvariantCulture, $" hello-interval {Seconds(hello)}");
        if (rxCost is { } cost)
        {
            line.Append(CultureInfo.InvariantCulture, $" rxcost {cost}");
        }

        if (keyId is not null)
        {
            line.Append(CultureInfo.InvariantCulture, $" key {keyId}");
        }
    }

    private static void Validate(BabelConfig config)
    {
        var socket = config.ControlSocketPath;
        if (string.IsNullOrEmpty(socket) || !Path.IsPathFullyQualified(socket) || !IsConfigToken(socket) || Encoding.UTF8.GetByteCount(socket) > MaxSocketPathBytes)
        {
            throw new ArgumentException($"control socket path '{socket}' must be absolute, at most {MaxSocketPathBytes} bytes, without spaces, quotes or '#'", nameof(config));
        }

        if (config.Interfaces.Count == 0)
        {
            // CAVEAT: babeld 1.12 exits at once ("Eek... asked to run on no interfaces!").
            throw new ArgumentException("babeld needs at least one interface to start", nameof(config));
        }

        CheckHello(config.HelloInterval, "the hello interval");
        var keyIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in config.Keys)
        {
            if (!keyIds.Add(key.Id))
            {
                throw new ArgumentException($"key id '{key.Id}' is defined twice", nameof(config));
            }
        }

        CheckKeyReference(config.DefaultKeyId, keyIds, "the default");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var ifc in config.Interfaces)
        {
            if (ifc.Name.Length is 0 or > MaxInterfaceNameLength || !IsConfigToken(ifc.Name) || ifc.Name.Contains('/', StringComparison.Ordinal) || ifc.Name is "." or "..")
            {
                throw new ArgumentException($"interface name '{ifc.Name}' is not a valid Linux interface name (1 to {MaxInterfaceNameLength} characters, no '/', spaces, quotes or '#')", nameof(config));
            }

            if (!names.Add(ifc.Name))
            {
                throw new ArgumentException($"interface '{ifc.Name}' is listed twice", nameof(config));
            }

            if (ifc.HelloInterval is { } hello)
            {
                CheckHello(hello, $"the hello interval of {ifc.Name}");
            }

            if (ifc.RxCost is < 1 or > 65534)
            {
                throw new ArgumentException($"rxcost {ifc.RxCost} of {ifc.Name} must be 1 to 65534 (65535 is Babel's infinity)", nameof(config));
            }

            CheckKeyReference(ifc.KeyId, keyIds, $"interface {ifc.Name}");
        }

        var announced = new HashSet<IpPrefix>();
        foreach (var prefix in config.Announce)
        {
            if (!announced.Add(prefix))
            {
                throw new ArgumentException($"prefix {prefix} is announced twice", nameof(config));
            }
        }
    }

    private static void CheckHello(TimeSpan hello, string what)
    {
        if (hello < MinHello || hello > MaxHello)
        {
            throw new ArgumentException($"{what} ({hello.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s) must be 0.01 s to 655 s");
        }
    }

    private static void CheckKeyReference(string? keyId, HashSet<string> keyIds, string what)
    {
        if (keyId is not null && !keyIds.Contains(keyId))
        {
            throw new ArgumentException($"{what} uses key '{keyId}', which is not defined");
        }
    }

    private static bool IsConfigToken(string text) =>
        !text.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '"' or '#' or '\\');

    private static void Line(StringBuilder text, string line) => text.Append(line).Append('\n');

    private static string Bool(bool value) => value ? "true" : "false";

    private static string Seconds(TimeSpan interval) => interval.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    private static string KeyType(BabelKeyType type) => type switch
    {
        BabelKeyType.HmacSha256 => "hmac-sha256",
        BabelKeyType.Blake2s128 => "blake2s128",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown key type"),
    };
}
