using System.Globalization;

namespace Re6st.Cli;

/// <summary>"--name value" and "--flag" arguments, checked against what a command accepts.</summary>
public sealed class Arguments
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

    public Arguments(IEnumerable<string> args, IReadOnlySet<string> options, IReadOnlySet<string> flags)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(flags);
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            var a = e.Current;
            if (flags.Contains(a))
            {
                _values[a] = null;
            }
            else if (options.Contains(a))
            {
                if (!e.MoveNext())
                {
                    throw new UsageException($"{a} needs a value");
                }

                _values[a] = e.Current;
            }
            else
            {
                throw new UsageException($"unknown argument '{a}'");
            }
        }
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string? Text(string name) => _values.TryGetValue(name, out var v) ? v : null;

    public int Number(string name, int fallback, int min, int max)
    {
        if (!_values.TryGetValue(name, out var v) || v is null)
        {
            return fallback;
        }

        if (!int.TryParse(v.Replace("_", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n < min || n > max)
        {
            throw new UsageException($"{name} must be a whole number from {min} to {max} (got '{v}')");
        }

        return n;
    }

    public ulong Seed(string name, ulong fallback)
    {
        if (!_values.TryGetValue(name, out var v) || v is null)
        {
            return fallback;
        }

        return ulong.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new UsageException($"{name} must be a non-negative whole number (got '{v}')");
    }
}
