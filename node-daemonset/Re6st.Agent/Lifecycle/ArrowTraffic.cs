using System.Text.Json;
using Re6st.Agent.Host;

namespace Re6st.Agent.Lifecycle;

/// <summary>
/// The traffic each arrow carries, for the most-used exception (see Core's ArrowDestruction): the
/// bytes the host forwards into and out of the arrow, counted by nft per interface. Forwarded
/// traffic is what the mesh carries for others: pods (a pod's packets are forwarded at both ends,
/// from and to the pod bridge) and transit between two arrows. Babel, the probes and the host's own
/// packets are not forwarded, so an arrow that only keeps the mesh alive counts none.
/// </summary>
/// <remarks>
/// Measured rather than assumed: nft keeps one counter per interface in a dynamic set (an element
/// appears with the first forwarded packet); an arrow's element goes with the arrow, so a name the
/// pool hands out again starts from zero.
/// </remarks>
public sealed class ArrowTraffic(HostShell shell, string interfacePrefix)
{
    public const string Table = "re6st-traffic";

    // Bytes into the arrow, and out of it.
    private static readonly string[] Sets = ["in", "out"];

    private readonly Dictionary<string, long> _lastCount = new(StringComparer.Ordinal);

    /// <summary>The table: two sets of per-interface counters, fed from the forward hook.</summary>
    public static string Script(string interfacePrefix) => $$"""
        table inet {{Table}} {
          set in { type ifname; size 65535; flags dynamic; counter; }
          set out { type ifname; size 65535; flags dynamic; counter; }
          chain forward {
            type filter hook forward priority filter - 10; policy accept;
            iifname "{{interfacePrefix}}*" iifname != "{{PodNetwork.Bridge}}" update @in { iifname }
            oifname "{{interfacePrefix}}*" oifname != "{{PodNetwork.Bridge}}" update @out { oifname }
          }
        }
        """;

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await RemoveAsync(cancellationToken).ConfigureAwait(false);
        await shell.NftScriptAsync(Script(interfacePrefix), cancellationToken).ConfigureAwait(false);
        _lastCount.Clear();
    }

    /// <summary>
    /// The bytes forwarded over each of <paramref name="arrows"/> (interface, id) since the last
    /// call that saw it, or since it came up; 0 for every arrow when the counters cannot be read.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, long>> SinceLastAsync(IReadOnlyCollection<(string Interface, string Id)> arrows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(arrows);
        var now = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var set in Sets)
        {
            var listed = await shell.RunAsync("nft", ["-j", "list", "set", "inet", Table, set], cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var (name, bytes) in listed.ExitCode == 0 ? Parse(listed.Output) : [])
            {
                now[name] = now.GetValueOrDefault(name) + bytes;
            }
        }

        var since = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (name, id) in arrows)
        {
            var count = now.GetValueOrDefault(name);
            since[id] = Math.Max(0, count - _lastCount.GetValueOrDefault(id));
            _lastCount[id] = count;
        }

        foreach (var gone in _lastCount.Keys.Where(id => !since.ContainsKey(id)).ToList())
        {
            _lastCount.Remove(gone);
        }

        return since;
    }

    /// <summary>Forgets an arrow's interface: the next arrow on that name starts from zero.</summary>
    public async Task ForgetAsync(string interfaceName, CancellationToken cancellationToken)
    {
        foreach (var set in Sets)
        {
            await shell.RunAsync("nft", ["delete", "element", "inet", Table, set, "{", interfaceName, "}"], cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task RemoveAsync(CancellationToken cancellationToken) =>
        await shell.RunAsync("nft", ["delete", "table", "inet", Table], cancellationToken: cancellationToken).ConfigureAwait(false);

    /// <summary>Each element's interface and byte count in <c>nft -j list set</c>'s output.</summary>
    public static IEnumerable<(string Interface, long Bytes)> Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var found = new List<(string, long)>();
        foreach (var entry in document.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (!entry.TryGetProperty("set", out var set) || !set.TryGetProperty("elem", out var elements))
            {
                continue;
            }

            foreach (var element in elements.EnumerateArray())
            {
                if (element.TryGetProperty("elem", out var e) && e.TryGetProperty("val", out var val) && val.ValueKind == JsonValueKind.String
                    && e.TryGetProperty("counter", out var counter) && counter.TryGetProperty("bytes", out var bytes))
                {
                    found.Add((val.GetString()!, bytes.GetInt64()));
                }
            }
        }

        return found;
    }
}
