using System.Globalization;
using System.Net;
using Re6st.Core.Addressing;

namespace Re6st.Agent.Babel;

/// <summary>
/// Parses one line of babeld's local configuration protocol (babeld 1.12). Never throws on what
/// babeld sends: a line it cannot read becomes a <see cref="BabelUnknownEvent"/> saying why.
/// </summary>
public static class BabelLineParser
{
    public static BabelEvent Parse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var tokens = line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (tokens.Length == 0)
        {
            return new BabelUnknownEvent(line, "empty line");
        }

        switch (tokens[0])
        {
            case "ok":
                return new BabelReplyEvent(BabelReply.Ok);
            case "no":
                return new BabelReplyEvent(BabelReply.No);
            case "bad":
                return new BabelReplyEvent(BabelReply.Bad);
            case "BABEL" or "version" or "host" or "my-id" when tokens.Length == 2:
                return new BabelInfoEvent(tokens[0], tokens[1]);
        }

        BabelAction action;
        switch (tokens[0])
        {
            case "add":
                action = BabelAction.Add;
                break;
            case "change":
                action = BabelAction.Change;
                break;
            case "flush":
                action = BabelAction.Flush;
                break;
            default:
                return new BabelUnknownEvent(line, $"unknown line kind '{tokens[0]}'");
        }

        if (tokens.Length < 3)
        {
            return new BabelUnknownEvent(line, "no object id");
        }

        if ((tokens.Length - 3) % 2 != 0)
        {
            return new BabelUnknownEvent(line, "a field has no value");
        }

        var fields = new Fields(tokens);
        BabelEntry? entry = tokens[1] switch
        {
            "interface" => Interface(tokens[2], fields),
            "neighbour" => Neighbour(tokens[2], fields),
            "route" => Route(tokens[2], fields),
            "xroute" => Xroute(tokens[2], fields),
            _ => null,
        };

        if (entry is null)
        {
            return new BabelUnknownEvent(line, fields.Error ?? $"unknown object '{tokens[1]}'");
        }

        return new BabelEntryEvent(action, entry);
    }

    private static BabelInterface? Interface(string name, Fields f)
    {
        // Only an interface that is up reports its addresses.
        var up = f.Bool("up");
        var ipv6 = f.OptionalAddress("ipv6");
        var ipv4 = f.OptionalAddress("ipv4");
        return f.Error is null ? new BabelInterface(name, up, ipv6, ipv4) : null;
    }

    private static BabelNeighbour? Neighbour(string id, Fields f)
    {
        var address = f.Address("address");
        var ifname = f.Text("if");
        var reach = f.Hex16("reach");
        var ureach = f.Has("ureach") ? f.Hex16("ureach") : (ushort)0;

        // rtt and rttcost are present only once a timestamped hello has come back.
        var rtt = f.Has("rtt") ? f.Double("rtt") : (double?)null;
        var rttCost = f.Has("rttcost") ? f.Int("rttcost") : (int?)null;
        var rxcost = f.Int("rxcost");
        var txcost = f.Int("txcost");
        var cost = f.Int("cost");
        return f.Error is null ? new BabelNeighbour(id, address!, ifname!, reach, ureach, rxcost, txcost, rtt, rttCost, cost) : null;
    }

    private static BabelRoute? Route(string id, Fields f)
    {
        var prefix = f.Prefix("prefix");
        var from = f.Prefix("from");
        var installed = f.YesNo("installed");
        var routerId = f.Text("id");
        var metric = f.Int("metric");
        var refMetric = f.Int("refmetric");
        var via = f.Address("via");
        var ifname = f.Text("if");
        return f.Error is null ? new BabelRoute(id, prefix, from, installed, routerId!, metric, refMetric, via!, ifname!) : null;
    }

    private static BabelXroute? Xroute(string id, Fields f)
    {
        var prefix = f.Prefix("prefix");
        var from = f.Prefix("from");
        var metric = f.Int("metric");
        return f.Error is null ? new BabelXroute(id, prefix, from, metric) : null;
    }

    /// <summary>The key/value pairs after the object id; remembers the first field that failed.</summary>
    private sealed class Fields
    {
        private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
        private readonly string _kind;

        public Fields(string[] tokens)
        {
            _kind = tokens[1];
            for (var i = 3; i + 1 < tokens.Length; i += 2)
            {
                _values[tokens[i]] = tokens[i + 1];
            }
        }

        public string? Error { get; private set; }

        public bool Has(string key) => _values.ContainsKey(key);

        public string? Text(string key) => Get(key, "a value", v => (true, v));

        public bool Bool(string key) => Get(key, "true or false", v => v switch
        {
            "true" => (true, true),
            "false" => (true, false),
            _ => (false, false),
        });

        public bool YesNo(string key) => Get(key, "yes or no", v => v switch
        {
            "yes" => (true, true),
            "no" => (true, false),
            _ => (false, false),
        });

        public int Int(string key) => Get(key, "an integer", v =>
            (int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n), n));

        public double Double(string key) => Get(key, "a number", v =>
            (double.TryParse(v, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n), n));

        public ushort Hex16(string key) => Get(key, "four hexadecimal digits", v =>
            (ushort.TryParse(v, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var n), n));

        public IPAddress? Address(string key) => Get(key, "an IP address", v =>
            (IPAddress.TryParse(v, out var a), a));

        public IPAddress? OptionalAddress(string key) => Has(key) ? Address(key) : null;

        public IpPrefix Prefix(string key) => Get(key, "a prefix", v =>
            (IpPrefix.TryParse(v, out var p, out _), p));

        private T Get<T>(string key, string expected, Func<string, (bool Ok, T Value)> parse)
        {
            if (!_values.TryGetValue(key, out var text))
            {
                Error ??= $"{_kind} line without '{key}'";
                return default!;
            }

            var (ok, value) = parse(text);
            if (!ok)
            {
                Error ??= $"{_kind} field '{key}' is '{text}', expected {expected}";
                return default!;
            }

            return value;
        }
    }
}
