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
            while (i < s.Length && char.IsAsciiLetter(s[i]))
            {
                i++;
            }

            double? unitMs = s.AsSpan(unitStart, i - unitStart) switch
            {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                _ => null,
            };
            if (unitMs is null)
            {
                error = $"'{text}' has an unknown unit; use ms, s, m or h";
                return false;
            }

            totalMs += number * unitMs.Value;
        }

        if (totalMs > TimeSpan.MaxValue.TotalMilliseconds / 2)
        {
            error = $"'{text}' is too long";
            return false;
        }

        value = TimeSpan.FromMilliseconds(totalMs);
        error = string.Empty;
        return true;
    }

    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }

        var parts = new System.Text.StringBuilder();
        if (value.TotalHours >= 1)
        {
            parts.Append((long)value.TotalHours).Append('h');
        }

        if (value.Minutes > 0)
        {
            parts.Append(value.Minutes).Append('m');
        }

        if (value.Seconds > 0)
        {
            parts.Append(value.Seconds).Append('s');
        }

        if (value.Milliseconds > 0)
        {
            parts.Append(value.Milliseconds).Append("ms");
        }

        return parts.ToString();
    }
}
