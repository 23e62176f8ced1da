using System.Net;

namespace Re6st.Agent.Babel;

/// <summary>An interface as babeld sees it; a declared interface that does not exist (yet) is reported down.</summary>
public sealed record BabelInterface(string Name, bool Up, IPAddress? Ipv6, IPAddress? Ipv4) : BabelEntry(Name);
