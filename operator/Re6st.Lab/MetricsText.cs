using System.Globalization;
using System.Text.RegularExpressions;

namespace Re6st.Lab;

/// <summary>The samples of one scrape in Prometheus' text format.</summary>
public sealed partial class MetricsText
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _samples = [];

    public MetricsText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Text = text;
        foreach (var line in text.Split('\n').Where(l => l.Length > 0 && l[0] != '#'))
        {
            var m = Sample().Match(line);
            if (!m.Success)
            {
                throw new FormatException("not a sample line: " + line);
            }

            var labels = Label().Matches(m.Groups["labels"].Value).ToDictionary(l => l.Groups[1].Value, l => l.Groups[2].Value);
            _samples.Add((m.Groups["name"].Value, labels, double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture)));
        }
    }

    public string Text { get; }

    /// <summary>Scrapes an endpoint, as Prometheus does.</summary>
    public static async Task<MetricsText> ScrapeAsync(HttpClient http, Uri address, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        return new MetricsText(await http.GetStringAsync(address, cancellationToken));
    }

    /// <summary>The sum of the samples of <paramref name="name"/> that carry all of <paramref name="labels"/>.</summary>
    public double Value(string name, params (string Key, string Value)[] labels) =>
        _samples.Where(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value)).Sum(s => s.Value);

    /// <summary>The sum of the samples of <paramref name="name"/> per value of its label <paramref name="label"/>.</summary>
    public IReadOnlyDictionary<string, double> By(string name, string label) =>
        _samples.Where(s => s.Name == name).GroupBy(s => s.Labels.GetValueOrDefault(label) ?? "").ToDictionary(g => g.Key, g => g.Sum(s => s.Value), StringComparer.Ordinal);

    public bool Has(string name) => _samples.Any(s => s.Name == name);

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)$")]
    private static partial Regex Sample();

    [GeneratedRegex(@"(\w+)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}
