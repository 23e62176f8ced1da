namespace Re6st.Agent.Babel;

/// <summary>
/// A mesh's Babel keys (RFC 8967) as its key Secret lists them: the keys the mesh accepts, and the
/// one that signs (<see cref="SigningKeyId"/>).
/// CAVEAT: babeld 1.12 checks a packet against its interface's key only, not against every key it
/// declares: during a rotation, hosts that already sign with the new key and hosts that do not yet
/// know it have no adjacency until the latter catch up.
/// </summary>
public sealed record BabelKeyRing
{
    public BabelKeyRing(IReadOnlyList<BabelKey> keys, string signingKeyId)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (!keys.Any(k => k.Id == signingKeyId))
        {
            throw new ArgumentException($"the signing key '{signingKeyId}' is not among the keys", nameof(signingKeyId));
        }

        Keys = keys;
        SigningKeyId = signingKeyId;
    }

    public IReadOnlyList<BabelKey> Keys { get; }

    public string SigningKeyId { get; }

    public BabelKey Signing => Keys.First(k => k.Id == SigningKeyId);

    /// <summary><paramref name="config"/> with these keys declared and the signing key on every interface that names none.</summary>
    public BabelConfig ApplyTo(BabelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config with { Keys = Keys, DefaultKeyId = SigningKeyId };
    }

    public bool Equals(BabelKeyRing? other) =>
        other is not null && SigningKeyId == other.SigningKeyId && Keys.SequenceEqual(other.Keys);

    public override int GetHashCode() => HashCode.Combine(SigningKeyId, Keys.Count);
}
