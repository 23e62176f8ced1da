using System.Text.RegularExpressions;
using Re6st.Contracts;

namespace Re6st.Agent.Babel;

/// <summary>
/// A shared secret that authenticates every Babel packet on the interfaces that name it
/// (RFC 8967): a speaker without it, or with another value, gets no adjacency and no routes.
/// </summary>
public sealed partial record BabelKey
{
    public BabelKey(string id, string hexValue, BabelKeyType type = BabelKeyType.HmacSha256)
    {
        if (!IdPattern().IsMatch(id ?? string.Empty))
        {
            throw new ArgumentException($"key id '{id}' must be 1 to 32 letters, digits, '-' or '_'", nameof(id));
        }

        // babeld takes up to 64 bytes for HMAC-SHA256 and up to 32 for BLAKE2s-128.
        var maxBytes = type == BabelKeyType.HmacSha256 ? 64 : 32;
        if (hexValue is null || hexValue.Length == 0 || hexValue.Length % 2 != 0 || hexValue.Length > 2 * maxBytes || !hexValue.All(char.IsAsciiHexDigit))
        {
            throw new ArgumentException($"the value of key '{id}' must be an even number of hexadecimal digits, 1 to {maxBytes} bytes", nameof(hexValue));
        }

        Id = id!;
        HexValue = hexValue.ToLowerInvariant();
        Type = type;
    }

    public string Id { get; }

    public string HexValue { get; }

    public BabelKeyType Type { get; }

    public static BabelKey FromBytes(string id, ReadOnlySpan<byte> secret, BabelKeyType type = BabelKeyType.HmacSha256) =>
        new(id, Convert.ToHexStringLower(secret), type);

    // The secret must not end up in logs or exception messages through a record's generated ToString.
    public override string ToString() => $"BabelKey {{ Id = {Id}, Type = {Type} }}";

    [GeneratedRegex(PeerPatterns.KeyId)]
    private static partial Regex IdPattern();
}
