namespace Re6st.Core.Addressing;

public enum IpFamily
{
    V4 = 4,
    V6 = 6,
}
