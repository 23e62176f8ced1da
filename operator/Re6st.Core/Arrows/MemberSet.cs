using Re6st.Core.Policy;

namespace Re6st.Core.Arrows;

/// <summary>
/// The members of one mesh (or sub-mesh) as a node sees them, indexed so that selection can work
/// on integers. Label-derived facts (preferred subset, technologies left by the rules) are
/// computed once per policy and cached here.
/// </summary>
public sealed class MemberSet
{
    private readonly NodeInfo[] _members;
    private Dictionary<string, int>? _byName;
    private Tuple<LabelSelector, int[]>? _preferred;
    private Tuple<IReadOnlyList<TechnologyRule>, TunnelTechnology[]>? _technologies;

    public MemberSet(IEnumerable<NodeInfo> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        _members = [.. members];
    }

    public int Count => _members.Length;

    public NodeInfo this[int index] => _members[index];

    public int IndexOf(string name)
    {
        var byName = _byName;
        if (byName is null)
        {
            byName = new Dictionary<string, int>(_members.Length, StringComparer.Ordinal);
            for (var i = 0; i < _members.Length; i++)
            {
                byName.TryAdd(_members[i].Name, i);
            }

            _byName = byName;
        }

        return byName.TryGetValue(name, out var index) ? index : -1;
    }

    /// <summary>Indexes of the members the selector matches.</summary>
    public int[] Matching(LabelSelector selector)
    {
        var cached = _preferred;
        if (cached is not null && ReferenceEquals(cached.Item1, selector))
        {
            return cached.Item2;
        }

        var matching = Enumerable.Range(0, _members.Length).Where(i => selector.Matches(_members[i].Labels)).ToArray();
        _preferred = Tuple.Create(selector, matching);
        return matching;
    }

    /// <summary>Per member: the technologies it runs, less those a rule denies for it.</summary>
    public TunnelTechnology[] EndpointTechnologies(IReadOnlyList<TechnologyRule> rules)
    {
        var cached = _technologies;
        if (cached is not null && ReferenceEquals(cached.Item1, rules))
        {
            return cached.Item2;
        }

        var result = new TunnelTechnology[_members.Length];
        for (var i = 0; i < result.Length; i++)
        {
            var allowed = _members[i].Technologies;
            foreach (var rule in rules)
            {
                if ((allowed & rule.Technology) != 0 && rule.DenyWhen.Matches(_members[i].Labels))
                {
                    allowed &= ~rule.Technology;
                }
            }

            result[i] = allowed;
        }

        _technologies = Tuple.Create(rules, result);
        return result;
    }
}
