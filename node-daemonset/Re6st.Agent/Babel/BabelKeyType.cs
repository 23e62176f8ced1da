namespace Re6st.Agent.Babel;

/// <summary>The MAC algorithms babeld 1.12 implements for RFC 8967 packet authentication.</summary>
public enum BabelKeyType
{
    HmacSha256,
    Blake2s128,
}
