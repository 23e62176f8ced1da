namespace Re6st.Core.Validation;

/// <summary>The three principles of re6st; a warning names the one a setting weakens.</summary>
public enum Principle
{
    RandomnessCreatesResiliency,
    LifeRequiresDestruction,
    TrustNoArrowOrNode,
}

public static class PrincipleText
{
    public static string Describe(this Principle principle) => principle switch
    {
        Principle.RandomnessCreatesResiliency => "randomness creates resiliency",
        Principle.LifeRequiresDestruction => "life requires destruction",
        Principle.TrustNoArrowOrNode => "trust no arrow or node",
        _ => principle.ToString(),
    };
}
