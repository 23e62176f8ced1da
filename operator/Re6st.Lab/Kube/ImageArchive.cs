using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Re6st.Lab.Kube;

/// <summary>
/// Writes a container image as a <c>docker save</c> archive (manifest.json, a config JSON, one tar per
/// layer), the form <c>ctr images import</c> reads: images made here need no engine and no registry.
/// </summary>
public static class ImageArchive
{
    /// <summary>What the image runs, as a Dockerfile's ENTRYPOINT, USER and EXPOSE say it.</summary>
    public sealed record Config(IReadOnlyList<string> Entrypoint, string? User, IReadOnlyList<int> ExposedPorts);

    /// <summary>A layer: a tar of files, applied in order over the ones before it.</summary>
    public sealed record Layer(string TarPath);

    /// <summary>Writes the archive of image <paramref name="reference"/> (a repository:tag) to <paramref name="path"/>.</summary>
    public static async Task WriteAsync(string path, string reference, Config config, IReadOnlyList<Layer> layers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(layers);
        var diffIds = new List<string>();
        foreach (var layer in layers)
        {
            diffIds.Add("sha256:" + await Sha256Async(layer.TarPath, cancellationToken));
        }

        var ports = new JsonObject();
        foreach (var port in config.ExposedPorts)
        {
            ports[$"{port}/tcp"] = new JsonObject();
        }

        var configJson = new JsonObject
        {
            ["architecture"] = "amd64",
            ["os"] = "linux",
            ["config"] = new JsonObject
            {
                ["Entrypoint"] = new JsonArray([.. config.Entrypoint.Select(e => JsonValue.Create(e))]),
                ["User"] = config.User ?? "",
                ["Env"] = new JsonArray("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
                ["ExposedPorts"] = ports,
            },
            ["rootfs"] = new JsonObject
            {
                ["type"] = "layers",
                ["diff_ids"] = new JsonArray([.. diffIds.Select(d => JsonValue.Create(d))]),
            },
        }.ToJsonString();
        var configName = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(configJson))) + ".json";
        var layerNames = diffIds.Select(d => d["sha256:".Length..] + "/layer.tar").ToList();
        var manifest = new JsonArray(new JsonObject
        {
            ["Config"] = configName,
            ["RepoTags"] = new JsonArray(reference),
            ["Layers"] = new JsonArray([.. layerNames.Select(n => JsonValue.Create(n))]),
        }).ToJsonString();

        var partial = path + ".partial";
        await using (var file = File.Create(partial))
        await using (var tar = new TarWriter(file, TarEntryFormat.Pax, leaveOpen: false))
        {
            await AddTextAsync(tar, "manifest.json", manifest, cancellationToken);
            await AddTextAsync(tar, configName, configJson, cancellationToken);
            for (var i = 0; i < layers.Count; i++)
            {
                await tar.WriteEntryAsync(layers[i].TarPath, layerNames[i], cancellationToken);
            }
        }

        File.Move(partial, path, overwrite: true);
    }

    /// <summary>
    /// A layer tar holding <paramref name="files"/> (path in the image → file on this machine), with
    /// their directories, owned by root, mode kept.
    /// </summary>
    public static async Task WriteLayerAsync(string path, IReadOnlyDictionary<string, string> files, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        var partial = path + ".partial";
        await using (var file = File.Create(partial))
        await using (var tar = new TarWriter(file, TarEntryFormat.Pax, leaveOpen: false))
        {
            var directories = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var inImage in files.Keys)
            {
                for (var dir = Path.GetDirectoryName(inImage.TrimStart('/')); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
                {
                    directories.Add(dir);
                }
            }

            foreach (var dir in directories)
            {
                var entry = new PaxTarEntry(TarEntryType.Directory, dir + "/") { Mode = (UnixFileMode)0b111_101_101 };
                await tar.WriteEntryAsync(entry, cancellationToken);
            }

            foreach (var (inImage, source) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                await using var content = File.OpenRead(source);
                var entry = new PaxTarEntry(TarEntryType.RegularFile, inImage.TrimStart('/'))
                {
                    Mode = File.GetUnixFileMode(source),
                    DataStream = content,
                };
                await tar.WriteEntryAsync(entry, cancellationToken);
            }
        }

        File.Move(partial, path, overwrite: true);
    }

    private static async Task AddTextAsync(TarWriter tar, string name, string text, CancellationToken cancellationToken)
    {
        using var content = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text));
        await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = (UnixFileMode)0b110_100_100, DataStream = content }, cancellationToken);
    }

    private static async Task<string> Sha256Async(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }
}
