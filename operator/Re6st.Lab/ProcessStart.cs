namespace Re6st.Lab;

public static class ProcessStart
{
    /// <summary>
    /// Field 22 of /proc/PID/stat (the start time in clock ticks since boot): with the pid it names
    /// one process, even after pid reuse. Null when no such process runs.
    /// </summary>
    public static string? Of(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[19];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
