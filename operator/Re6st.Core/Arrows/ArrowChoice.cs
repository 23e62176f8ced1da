using Re6st.Core.Policy;

namespace Re6st.Core.Arrows;

/// <summary>A new arrow to create: the peer (index in the <see cref="MemberSet"/>), its technology, and why.</summary>
public readonly record struct ArrowChoice(int Peer, TunnelTechnology Technology, SelectionReason Reason);
