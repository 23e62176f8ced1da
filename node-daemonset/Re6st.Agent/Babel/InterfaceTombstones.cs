using System.Net;
using Re6st.Agent.Host;
using Re6st.Runtime;

namespace Re6st.Agent.Babel;

/// <summary>
/// Stand-ins for removed arrow interfaces, kept until babeld has forgotten the neighbours it had
/// on them. An arrow's tunnel is replaced by a tombstone of the same name (a veth pair, up, with a
/// link-local address and nothing behind it) while babeld is frozen, so babeld sees one change: the
/// interface went down and came back up under a new index. The down flushes every route through
/// the arrow at once, as a deletion would; the tombstone's address lets babeld send what it still
/// holds for those neighbours (into nothing) until their hellos time out and it drops them; then
/// the tombstone goes, and the name may carry an arrow again.
/// </summary>
/// <remarks>
/// CAVEAT: babeld 1.12 (and up to 1.14) keeps a neighbour for 16 to 31 missed hellos after its
/// interface went down, and with MAC authentication a unicast message it had queued for it (a
/// route request sent while a route was lost, an acknowledgement, a challenge) can never be
/// signed: the interface has no link-local address any more. flushbuf then keeps the buffer and its
/// expired timer, and the main loop spins on it without ever calling select: babeld writes
/// "add_hmac: no link-local address." and "send_pc: no space left to accumulate pc." hundreds of
/// thousands of times a second and reads no packet from any interface, so the host falls off the
/// mesh until the neighbour expires (15 to 18 s at a 1 s hello, seen in the lab when several arrows
/// of one host went within a second). A tombstone keeps that interface up with an address.
/// </remarks>
/// <param name="workDirectory">Where the batch of netlink requests is written for <c>ip -batch</c> (the agent's state directory).</param>
public sealed class InterfaceTombstones(HostShell shell, Func<IDisposable> freezeBabeld, TimeProvider time, string workDirectory, Action<string>? log = null)
{
    /// <summary>
    /// babeld drops a neighbour 16 missed hellos after its last one, checked every 15 hellos:
    /// past 40 hellos none can remain, whatever babeld's control socket last said.
    /// </summary>
    public const int MaxHellos = 40;

    private readonly Dictionary<string, DateTimeOffset> _since = new(StringComparer.Ordinal);
    private readonly Action<string> _log = log ?? (_ => { });

    /// <summary>Names held by a tombstone: not to be given to a new arrow before it goes.</summary>
    public IReadOnlyCollection<string> Names
    {
        get
        {
            lock (_since)
            {
                return [.. _since.Keys];
            }
        }
    }

    /// <summary>The peer end of a tombstone: outside the arrow prefix, so never taken for an arrow.</summary>
    public static string PeerName(string name) => "z" + name;

    /// <summary>
    /// Replaces the device <paramref name="name"/> (an arrow's tunnel, or nothing if it is already
    /// gone) by its tombstone, in one batch of netlink requests while babeld is frozen.
    /// </summary>
    public Task ReplaceAsync(string name, IPAddress linkLocal, CancellationToken cancellationToken) =>
        ReplaceAsync([(name, linkLocal)], cancellationToken);

    /// <summary>
    /// Replaces every device of <paramref name="devices"/> by its tombstone, all in one batch of
    /// netlink requests while babeld is frozen once: arrows that die together leave babeld at the
    /// same moment. One by one, each replacement froze babeld for a few hundred milliseconds under
    /// load, and seven took 2.6 s in a soak drill: babeld kept routing over the dead arrows still
    /// waiting, and one of them lost its device meanwhile (its link-local address with it), which
    /// set babeld's HMAC loop off.
    /// </summary>
    public async Task ReplaceAsync(IReadOnlyCollection<(string Name, IPAddress LinkLocal)> devices, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(devices);
        if (devices.Count == 0)
        {
            return;
        }

        var batch = string.Concat(devices.Select(d =>
        {
            ArgumentNullException.ThrowIfNull(d.LinkLocal);
            var peer = PeerName(d.Name);
            return string.Join('\n',
                $"link del dev {d.Name}",
                $"link add name {d.Name} type veth peer name {peer}",
                $"link set dev {d.Name} addrgenmode none",
                $"link set dev {peer} addrgenmode none",
                $"addr add {d.LinkLocal}/64 dev {d.Name} nodad",
                $"link set dev {peer} up",
                $"link set dev {d.Name} up") + "\n";
        }));
        var file = Path.Combine(workDirectory, $"tombstone-{devices.First().Name}.batch");
        await File.WriteAllTextAsync(file, batch, cancellationToken).ConfigureAwait(false);

        // -force: a tunnel may already be gone (its process died); the tombstone is made anyway.
        // CAVEAT: a veth's carrier, and so the RUNNING flag babeld reads, comes on a moment after
        // both ends are up (the kernel's link watch): babeld must not run before, or it would take
        // a tombstone for down, without an address. One second at most for all of them.
        const string Script = """
            file="$0"
            ip -force -batch "$file"; status=$?
            i=0
            for name in "$@"; do
              while [ $i -lt 200 ] && ! ip -o link show dev "$name" | grep -q 'state UP'; do sleep 0.005; i=$((i + 1)); done
            done
            exit $status
            """;
        CommandResult result;
        try
        {
            using (freezeBabeld())
            {
                result = await shell.RunAsync("sh", ["-c", Script, file, .. devices.Select(d => d.Name)], TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            File.Delete(file);
        }

        lock (_since)
        {
            var now = time.GetUtcNow();
            foreach (var (name, _) in devices)
            {
                _since[name] = now;
            }
        }

        if (result.ExitCode != 0)
        {
            _log($"tombstones {string.Join(", ", devices.Select(d => d.Name))}: {result.Error.Trim().ReplaceLineEndings(" | ")}");
        }
    }

    /// <summary>
    /// Removes the tombstones babeld no longer has a neighbour on (or that are older than
    /// <see cref="MaxHellos"/> hellos); returns their names, free for new arrows.
    /// </summary>
    public async Task<IReadOnlyList<string>> SweepAsync(BabelState babel, TimeSpan hello, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(babel);
        var now = time.GetUtcNow();
        List<string> due;
        lock (_since)
        {
            due = [.. _since.Where(t => now - t.Value >= hello * MaxHellos || (babel.Connected && !babel.NeighboursOn(t.Key).Any() && now > t.Value))
                .Select(t => t.Key)];
        }

        foreach (var name in due)
        {
            await RemoveAsync(name, cancellationToken).ConfigureAwait(false);
        }

        return due;
    }

    /// <summary>Removes every tombstone: babeld is stopped or was restarted, so it has no neighbour on them.</summary>
    public async Task<IReadOnlyList<string>> RemoveAllAsync(CancellationToken cancellationToken)
    {
        var all = Names;
        foreach (var name in all)
        {
            await RemoveAsync(name, cancellationToken).ConfigureAwait(false);
        }

        return [.. all];
    }

    private async Task RemoveAsync(string name, CancellationToken cancellationToken)
    {
        // Deleting one end of a veth pair deletes both.
        var result = await shell.RunAsync("ip", ["link", "del", "dev", name, "type", "veth"], cancellationToken: cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0 && !result.Error.Contains("Cannot find device", StringComparison.Ordinal))
        {
            _log($"tombstone {name} not removed: {result.Error.Trim()}");
            return;
        }

        lock (_since)
        {
            _since.Remove(name);
        }
    }
}
