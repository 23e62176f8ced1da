using System.Text.Json;
using Re6st.Core.Arrows;
using Re6st.Core.Policy;

namespace Re6st.Agent.Lifecycle;

/// <summary>
/// The host's arrows as a file in its state directory, rewritten whenever they change, so that an
/// agent that restarts (a crash, an upgrade) adopts the tunnels still up instead of cutting them:
/// a tunnel alone does not say which peer, sub-mesh and arrow id it serves.
/// </summary>
public sealed class ArrowJournal(string path)
{
    private string _written = "";

    public IReadOnlyList<JournalEntry> Read()
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), AgentJsonContext.Default.ListJournalEntry) ?? [];
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or JsonException)
        {
            // No journal, or one cut short by a crash: nothing is adopted, leftovers are removed.
            return [];
        }
    }

    public void Write(IEnumerable<ArrowRecord> arrows)
    {
        var text = JsonSerializer.Serialize(arrows.OrderBy(a => a.Interface, StringComparer.Ordinal).Select(JournalEntry.Of).ToList(), AgentJsonContext.Default.ListJournalEntry);
        if (text == _written)
        {
            return;
        }

        var temp = path + ".tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
        _written = text;
    }
}

public sealed record JournalEntry(string Id, string Interface, string Peer, string SubMesh, TunnelTechnology Technology, bool Initiated, DateTimeOffset Created, ArrowState State, DateTimeOffset? DrainStartedAt)
{
    public static JournalEntry Of(ArrowRecord a)
    {
        ArgumentNullException.ThrowIfNull(a);
        return new(a.Id, a.Interface, a.Peer, a.SubMesh, a.Technology, a.Initiated, a.Created, a.State, a.DrainStartedAt);
    }
}
