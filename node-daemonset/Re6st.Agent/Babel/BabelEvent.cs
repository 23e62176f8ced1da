namespace Re6st.Agent.Babel;

/// <summary>One line of babeld's local configuration protocol, parsed.</summary>
public abstract record BabelEvent;

public enum BabelAction
{
    Add,
    Change,
    Flush,
}

public enum BabelReply
{
    Ok,
    No,
    Bad,
}

/// <summary><c>add|change|flush interface|neighbour|route|xroute ID key value ...</c></summary>
public sealed record BabelEntryEvent(BabelAction Action, BabelEntry Entry) : BabelEvent;

/// <summary>The end of a request's answer: <c>ok</c>, <c>no</c> or <c>bad</c> (unknown or malformed request).</summary>
public sealed record BabelReplyEvent(BabelReply Reply) : BabelEvent;

/// <summary>A banner line: <c>BABEL 1.0</c>, <c>version babeld-1.12.1</c>, <c>host NAME</c>, <c>my-id ID</c>.</summary>
public sealed record BabelInfoEvent(string Key, string Value) : BabelEvent;

/// <summary>A line this parser does not understand (a newer babeld, or a malformed field); the client skips it.</summary>
public sealed record BabelUnknownEvent(string Line, string Reason) : BabelEvent;
