using System.Net;
using System.Net.Sockets;

namespace Re6st.Core.Addressing;

/// <summary>
/// An IPv4 or IPv6 prefix in canonical form (host bits zero). IPv4 addresses live in the low
/// 32 bits of <see cref="Address"/>, so both families share the arithmetic.
/// </summary>
public readonly record struct IpPrefix : IComparable<IpPrefix>
{
    public IpPrefix(IpFamily family, UInt128 address, int length)
    {
        var width = WidthOf(family);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, width);
        if ((address & HostMask(width, length)) != 0 || (width == 32 && address > uint.MaxValue))
        {
            throw new ArgumentException($"host bits of {Format(family, address)}/{length} are not zero", nameof(address));
        }

        Family = family;
        Address = address;
        Length = length;
    }

    public IpFamily Family { get; }

    public UInt128 Address { get; }

    public int Length { get; }

    public int Width => WidthOf(Family);

    public static int WidthOf(IpFamily family) => family == IpFamily.V4 ? 32 : 128;

    public static IpPrefix Parse(string text) =>
        TryParse(text, out var prefix, out var error) ? prefix : throw new FormatException(error);

    /// <summary>Parses "addr/len"; on failure <paramref name="error"/> says why, in words a user can act on.</summary>
    public static bool TryParse(string? text, out IpPrefix prefix, out string error)
    {
        prefix = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "is empty; expected a CIDR such as fd00:1::/48 or 10.42.0.0/16";
            return false;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            error = $"'{text}' has no prefix length; expected a CIDR such as fd00:1::/48 or 10.42.0.0/16";
            return false;
        }

        var addressPart = text.AsSpan(0, slash);
        var isV6 = addressPart.Contains(':');

        // IPAddress also takes "10.42/16", "167772160" or octal "012.0.0.0"; Kubernetes (Go) takes
        // only a dotted quad of decimal numbers without leading zeros, and so do we.
        if (!isV6 && IsIpv4Shaped(addressPart) && !IsDottedQuad(addressPart))
        {
            error = $"'{text}' does not start with a valid IPv4 address (four decimal numbers 0-255 without leading zeros, e.g. 10.42.0.0)";
            return false;
        }

        if (!IPAddress.TryParse(addressPart, out var ip) || addressPart.Contains('%'))
        {
            error = $"'{text}' does not start with a valid IP address";
            return false;
        }

        var family = ip.AddressFamily == AddressFamily.InterNetworkV6 ? IpFamily.V6 : IpFamily.V4;
        var width = WidthOf(family);
        if (!int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, null, out var length) || length > width)
        {
            error = $"'{text}' has an invalid prefix length; it must be a number from 0 to {width}";
            return false;
        }

        var bytes = ip.GetAddressBytes();
        UInt128 value = 0;
        foreach (var b in bytes)
        {
            value = (value << 8) | b;
        }

        var hostBits = value & HostMask(width, length);
        if (hostBits != 0)
        {
            var canonical = new IpPrefix(family, value & ~HostMask(width, length), length);
            error = $"'{text}' has host bits set; did you mean {canonical}?";
            return false;
        }

        prefix = new IpPrefix(family, value, length);
        error = string.Empty;
        return true;
    }

    /// <summary>How many sub-prefixes of <paramref name="length"/> this prefix holds (saturates at UInt128.MaxValue).</summary>
    public UInt128 CountOf(int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, Length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Width);
        var bits = length - Length;
        return bits >= 128 ? UInt128.MaxValue : UInt128.One << bits;
    }

    /// <summary>The <paramref name="index"/>-th sub-prefix of the given length, counting from the start of this prefix.</summary>
    public IpPrefix Subprefix(UInt128 index, int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, CountOf(length));
        return new IpPrefix(Family, Address | (index << (Width - length)), length);
    }

    /// <summary>Index of <paramref name="inner"/> among this prefix's sub-prefixes of inner's length.</summary>
    public UInt128 IndexOf(IpPrefix inner)
    {
        if (!Contains(inner))
        {
            throw new ArgumentException($"{inner} is not inside {this}", nameof(inner));
        }

        return (inner.Address - Address) >> (Width - inner.Length);
    }

    /// <summary>True when <paramref name="other"/> is this prefix or inside it.</summary>
    public bool Contains(IpPrefix other) =>
        other.Family == Family && other.Length >= Length && (other.Address & ~HostMask(Width, Length)) == Address;

    /// <summary>True when <paramref name="other"/> is inside this prefix and longer (a more specific route).</summary>
    public bool StrictlyContains(IpPrefix other) => other.Length > Length && Contains(other);

    public bool Overlaps(IpPrefix other) => Contains(other) || other.Contains(this);

    public int CompareTo(IpPrefix other)
    {
        var c = Family.CompareTo(other.Family);
        if (c != 0)
        {
            return c;
        }

        c = Address.CompareTo(other.Address);
        return c != 0 ? c : Length.CompareTo(other.Length);
    }

    public static bool operator <(IpPrefix left, IpPrefix right) => left.CompareTo(right) < 0;

    public static bool operator >(IpPrefix left, IpPrefix right) => left.CompareTo(right) > 0;

    public static bool operator <=(IpPrefix left, IpPrefix right) => left.CompareTo(right) <= 0;

    public static bool operator >=(IpPrefix left, IpPrefix right) => left.CompareTo(right) >= 0;

    public override string ToString() => $"{Format(Family, Address)}/{Length}";

    private static bool IsIpv4Shaped(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiHexDigit(c) && c is not '.' and not 'x' and not 'X')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsDottedQuad(ReadOnlySpan<char> text)
    {
        var parts = 0;
        foreach (var range in text.Split('.'))
        {
            var part = text[range];
            if (++parts > 4 || part.Length is 0 or > 3 || (part.Length > 1 && part[0] == '0'))
            {
                return false;
            }

            foreach (var c in part)
            {
                if (!char.IsAsciiDigit(c))
                {
                    return false;
                }
            }

            if (int.Parse(part, System.Globalization.CultureInfo.InvariantCulture) > 255)
            {
                return false;
            }
        }

        return parts == 4;
    }

    private static UInt128 HostMask(int width, int length) =>
        width - length >= 128 ? UInt128.MaxValue : (UInt128.One << (width - length)) - 1;

    private static string Format(IpFamily family, UInt128 address)
    {
        var size = family == IpFamily.V4 ? 4 : 16;
        Span<byte> bytes = stackalloc byte[size];
        for (var i = size - 1; i >= 0; i--)
        {
            bytes[i] = (byte)(address & 0xFF);
            address >>= 8;
        }

        return new IPAddress(bytes).ToString();
    }
}
