namespace Re6st.Agent.Babel;

/// <summary>An object babeld reports on its control socket, keyed by the id babeld gives it.</summary>
public abstract record BabelEntry(string Id);
