using System.Globalization;

namespace Re6st.Core.Policy;

/// <summary>
/// Kubernetes-style durations ("90s", "5m", "1h30m", "250ms"), as metav1.Duration writes them,
/// so policy fields read the same in YAML as every other Kubernetes duration.
/// </summary>
public static class GoDuration
{
    public static bool TryParse(string? text, out TimeSpan value, out string error)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "is empty; expected a duration such as 30s, 5m or 1h30m";
            return false;
        }

        var s = text.Trim();
        var negative = s.StartsWith('-');
        if (negative || s.StartsWith('+'))
        {
            s = s[1..];
        }

        if (s == "0")
        {
            error = string.Empty;
            return true;
        }

        var i = 0;
        double totalMs = 0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
            {
                i++;
            }

            if (start == i || !double.TryParse(s.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                error = $"'{text}' is not a duration; expected a form such as 30s, 5m or 1h30m";
                return false;
            }

            var unitStart = i;
            while (i < s.Length && (char.IsAsciiLetter(s[i]) || s[i] is '\u00b5' or '\u03bc'))
            {
                i++;
            }

            double? unitMs = s.AsSpan(unitStart, i - unitStart) switch
            {
                "ns" => 1e-6,
                "us" or "\u00b5s" or "\u03bcs" => 1e-3,
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                _ => null,
            };
            if (unitMs is null)
            {
                error = $"'{text}' has an unknown unit; use ns, us, ms, s, m or h";
                return false;
            }

            totalMs += number * unitMs.Value;
        }

        if (totalMs > TimeSpan.MaxValue.TotalMilliseconds / 2)
        {
            error = $"'{text}' is too long";
            return false;
        }

        value = TimeSpan.FromTicks((long)Math.Round(totalMs * TimeSpan.TicksPerMillisecond) * (negative ? -1 : 1));
        error = string.Empty;
        return true;
    }

    /// <summary>Go's time.Duration.String(), which is how Kubernetes writes durations back ("1h0m0s", "1m30s", "250ms").</summary>
    public static string Format(TimeSpan value)
    {
        var ticks = value.Ticks;
        if (ticks == 0)
        {
            return "0s";
        }

        var sign = ticks < 0 ? "-" : string.Empty;
        var u = (ulong)Math.Abs(ticks);
        if (u < TimeSpan.TicksPerSecond)
        {
            var ns = u * 100;
            return sign + (ns < 1_000 ? $"{ns}ns" : ns < 1_000_000 ? Fraction(ns, 3) + "\u00b5s" : Fraction(ns, 6) + "ms");
        }

        var seconds = u / TimeSpan.TicksPerSecond;
        var fraction = u % TimeSpan.TicksPerSecond;
        var text = new System.Text.StringBuilder(sign);
        if (seconds >= 3600)
        {
            text.Append(CultureInfo.InvariantCulture, $"{seconds / 3600}h");
        }

        if (seconds >= 60)
        {
            text.Append(CultureInfo.InvariantCulture, $"{seconds / 60 % 60}m");
        }

        text.Append(CultureInfo.InvariantCulture, $"{seconds % 60}");
        if (fraction > 0)
        {
            text.Append('.').Append(fraction.ToString("D7", CultureInfo.InvariantCulture).TrimEnd('0'));
        }

        return text.Append('s').ToString();
    }

    /// <summary>value / 10^digits with the fraction's trailing zeros dropped (Go's style).</summary>
    private static string Fraction(ulong value, int digits)
    {
        var scale = (ulong)Math.Pow(10, digits);
        var whole = value / scale;
        var rest = value % scale;
        return rest == 0
            ? whole.ToString(CultureInfo.InvariantCulture)
            : $"{whole}.{rest.ToString("D" + digits, CultureInfo.InvariantCulture).TrimEnd('0')}";
    }
}
