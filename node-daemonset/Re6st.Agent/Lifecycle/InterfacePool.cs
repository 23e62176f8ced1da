using System.Globalization;

namespace Re6st.Agent.Lifecycle;

/// <summary>
/// The fixed set of arrow interface names per sub-mesh. babeld accepts filters only at start-up, so
/// every name a sub-mesh may ever use is declared, with that sub-mesh's filters, when babeld
/// starts; a new arrow takes a free name of its sub-mesh.
/// </summary>
public sealed class InterfacePool
{
    private readonly List<Slot>[] _free;
    private readonly Slot[][] _all;

    public InterfacePool(string prefix, int memberships, int size, int portBase)
    {
        // A name is prefix + membership + two hex digits, and its tombstone's peer one more
        // character (InterfaceTombstones.PeerName); Linux names hold 15.
        if (prefix.Length + 4 > 15)
        {
            throw new ArgumentException($"interface prefix '{prefix}' is too long: at most 11 characters, so that names and their tombstones fit in 15", nameof(prefix));
        }

        _all = new Slot[memberships][];
        _free = new List<Slot>[memberships];
        for (var m = 0; m < memberships; m++)
        {
            _all[m] = [.. Enumerable.Range(0, size).Select(i => new Slot(m, i, $"{prefix}{m}{i.ToString("x2", CultureInfo.InvariantCulture)}", portBase + (m * 256) + i))];
            _free[m] = [.. _all[m]];
        }
    }

    public IReadOnlyList<string> NamesOf(int membership) => [.. _all[membership].Select(s => s.Interface)];

    public Slot? Take(int membership)
    {
        var free = _free[membership];
        if (free.Count == 0)
        {
            return null;
        }

        var slot = free[0];
        free.RemoveAt(0);
        return slot;
    }

    /// <summary>Takes the slot of an existing interface (an arrow adopted after a restart); null when it is not a free name of this pool.</summary>
    public Slot? Take(string interfaceName)
    {
        foreach (var free in _free)
        {
            if (free.FirstOrDefault(s => s.Interface == interfaceName) is { } slot)
            {
                free.Remove(slot);
                return slot;
            }
        }

        return null;
    }

    /// <summary>Returns the slot of <paramref name="interfaceName"/> (a tombstone gone); nothing for a name not of this pool.</summary>
    public void Return(string interfaceName)
    {
        foreach (var slots in _all)
        {
            if (slots.FirstOrDefault(s => s.Interface == interfaceName) is { } slot)
            {
                Return(slot);
            }
        }
    }

    public void Return(Slot slot)
    {
        ArgumentNullException.ThrowIfNull(slot);
        if (!_free[slot.Membership].Contains(slot))
        {
            // Last in line: a name just freed is reused last, so the far end and babeld have long
            // forgotten the old arrow when a new one takes the name.
            _free[slot.Membership].Add(slot);
        }
    }
}
