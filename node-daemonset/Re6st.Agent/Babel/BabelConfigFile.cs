using System.Text;

namespace Re6st.Agent.Babel;

public static class BabelConfigFile
{
    /// <summary>
    /// Writes the file readable by its owner only (it holds the HMAC keys) and replaces any previous
    /// version atomically, so a babeld restarting meanwhile reads the old or the new file, never half.
    /// </summary>
    public static void Write(string path, BabelConfig config) => WriteText(path, BabelConfigWriter.Write(config));

    /// <summary>Writes configuration text already rendered by <see cref="BabelConfigWriter"/>, as <see cref="Write"/> does.</summary>
    public static void WriteText(string path, string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("babeld and the re6st agent run on Linux");
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        try
        {
            // A leftover of a crashed writer would keep its old mode: UnixCreateMode applies on creation only.
            File.Delete(temporary);
            var options = new FileStreamOptions
            {
                Mode = FileMode.Create,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            };
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(Encoding.UTF8.GetBytes(text));
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
