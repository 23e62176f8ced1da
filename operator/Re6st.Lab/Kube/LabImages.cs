using System.Security.Cryptography;
using System.Text;
using Re6st.Runtime;
using YamlDotNet.RepresentationModel;

namespace Re6st.Lab.Kube;

/// <summary>An image built for the lab: its reference (repository:tag) and its importable archive.</summary>
public sealed record LabImage(string Reference, string Archive);

/// <summary>
/// The images a real-node lab runs, built on this machine with no engine and no registry: the
/// operator's and the agent's, as their Dockerfiles describe them (the same Debian release and
/// package list, made with mmdebstrap, plus the project's own published program), tagged with the
/// references the Helm chart's defaults name; a pause image compiled from Kubernetes' pause.c; and
/// the probe image the lab's workload pods run (ping, socat).
/// Debian bases are cached by release and package list (about a minute each to make).
/// </summary>
public static class LabImages
{
    /// <summary>The image of the lab's workload pods (what users run over the mesh): ping, a TCP server and client, iperf3.</summary>
    public const string ProbeReference = "re6st.local/probe:1";

    /// <summary>The probe image's Debian packages: ping, socat (TCP server and client), ip, iperf3 (throughput).</summary>
    public static readonly IReadOnlyList<string> ProbePackages = ["iputils-ping", "socat", "iproute2", "iperf3"];

    /// <summary>The sandbox image every node's containerd is told to use.</summary>
    public const string PauseReference = "re6st.local/pause:3.2";

    /// <summary>Where Debian bases are kept between labs and test runs.</summary>
    public static string DefaultCache { get; } = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "re6st", "images");

    /// <summary>Builds the four images into <paramref name="directory"/>.</summary>
    /// <param name="repository">The checkout (Dockerfiles, package lists, the chart's values, the operator's project).</param>
    /// <param name="kubeBinaries">The folder of tests/tools/kube-binaries.sh (pause.c).</param>
    /// <param name="agentProgram">The native re6st-agent the build published.</param>
    /// <param name="cache">Where Debian bases are kept between labs.</param>
    public static async Task<IReadOnlyList<LabImage>> BuildAsync(
        string repository, string kubeBinaries, string agentProgram, string directory, string cache, Action<string> progress, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var pause = await PauseAsync(kubeBinaries, directory, cancellationToken);
        var agent = await AgentAsync(repository, agentProgram, directory, cache, progress, cancellationToken);
        var op = await OperatorAsync(repository, directory, cache, progress, cancellationToken);
        var probe = await ProbeAsync(directory, cache, progress, cancellationToken);
        return [pause, op, agent, probe];
    }

    /// <summary>The workload pods' image: a Debian base with <see cref="ProbePackages"/>, sleeping until told otherwise.</summary>
    public static async Task<LabImage> ProbeAsync(string directory, string cache, Action<string> progress, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        Directory.CreateDirectory(cache);
        var baseLayer = await DebianBaseAsync("bookworm", ProbePackages, cache, progress, cancellationToken);
        var archive = Path.Combine(directory, "probe.tar");
        await ImageArchive.WriteAsync(archive, ProbeReference, new ImageArchive.Config(["/bin/sleep", "infinity"], null, []), [new(baseLayer)], cancellationToken);
        return new LabImage(ProbeReference, archive);
    }

    /// <summary>The agent's image, with <paramref name="agentProgram"/> (the native re6st-agent the build published).</summary>
    public static Task<LabImage> AgentAsync(string repository, string agentProgram, string directory, string cache, Action<string> progress, CancellationToken cancellationToken) =>
        ImageAsync(
            repository,
            Path.Combine(repository, "node-daemonset", "Dockerfile"),
            "agent",
            new Dictionary<string, string> { ["/opt/re6st/re6st-agent"] = agentProgram },
            directory,
            cache,
            progress,
            cancellationToken);

    /// <summary>The operator's image, with the operator published self-contained from the checkout.</summary>
    public static async Task<LabImage> OperatorAsync(string repository, string directory, string cache, Action<string> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progress);
        progress("publishing the operator self-contained for its image (dotnet publish -r linux-x64)");
        var published = Path.Combine(directory, "operator-publish");
        var (code, output) = await CommandRunner.RunAsync(
            "dotnet",
            ["publish", Path.Combine(repository, "operator", "Re6st.Operator", "Re6st.Operator.csproj"), "-c", "Release", "-r", "linux-x64", "--self-contained", "--nologo", "-v", "quiet", "-o", published],
            TimeSpan.FromMinutes(10), cancellationToken: cancellationToken);
        if (code != 0)
        {
            throw new InvalidOperationException("dotnet publish of the operator failed:\n" + output);
        }

        var operatorFiles = Directory.GetFiles(published, "*", SearchOption.AllDirectories)
            .ToDictionary(f => "/opt/re6st/" + Path.GetRelativePath(published, f), f => f, StringComparer.Ordinal);
        return await ImageAsync(
            repository,
            Path.Combine(repository, "operator", "Re6st.Operator", "Dockerfile"),
            "operator",
            operatorFiles,
            directory,
            cache,
            progress,
            cancellationToken);
    }

    private static async Task<LabImage> PauseAsync(string kubeBinaries, string directory, CancellationToken cancellationToken)
    {
        var program = Path.Combine(directory, "pause");
        var (code, output) = await CommandRunner.RunAsync("cc", ["-Os", "-static", "-o", program, Path.Combine(kubeBinaries, "pause.c")], TimeSpan.FromMinutes(2), cancellationToken: cancellationToken);
        if (code != 0)
        {
            throw new InvalidOperationException("compiling Kubernetes' pause.c failed:\n" + output);
        }

        var layer = Path.Combine(directory, "pause-layer.tar");
        await ImageArchive.WriteLayerAsync(layer, new Dictionary<string, string> { ["/pause"] = program }, cancellationToken);
        var archive = Path.Combine(directory, "pause.tar");
        await ImageArchive.WriteAsync(archive, PauseReference, new ImageArchive.Config(["/pause"], "65535:65535", []), [new(layer)], cancellationToken);
        return new LabImage(PauseReference, archive);
    }

    /// <summary>The image <paramref name="dockerfile"/> describes, tagged as the chart's defaults name <paramref name="component"/>'s.</summary>
    private static async Task<LabImage> ImageAsync(
        string repository,
        string dockerfile,
        string component,
        Dictionary<string, string> files,
        string directory,
        string cache,
        Action<string> progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progress);
        Directory.CreateDirectory(directory);
        Directory.CreateDirectory(cache);
        var chart = Path.Combine(repository, "helm", "re6st");
        var reference = YamlScalar(Path.Combine(chart, "values.yaml"), component, "image", "repository") + ":" + YamlScalar(Path.Combine(chart, "Chart.yaml"), "appVersion");
        var image = DockerfileImage.Parse(dockerfile, await File.ReadAllTextAsync(dockerfile, cancellationToken));
        var packages = DockerfileImage.ReadPackages(Path.Combine(repository, image.PackagesFile));
        var baseLayer = await DebianBaseAsync(image.Suite, packages, cache, progress, cancellationToken);
        var name = reference.Split('/')[^1].Split(':')[0];
        var appLayer = Path.Combine(directory, name + "-layer.tar");
        await ImageArchive.WriteLayerAsync(appLayer, files, cancellationToken);
        var archive = Path.Combine(directory, name + ".tar");
        await ImageArchive.WriteAsync(archive, reference, new ImageArchive.Config(image.Entrypoint, image.User, image.ExposedPorts), [new(baseLayer), new(appLayer)], cancellationToken);
        progress($"image {reference}: Debian {image.Suite} with {string.Join(' ', packages)}, and {files.Count} file(s) of re6st");
        return new LabImage(reference, archive);
    }

    /// <summary>A minimal Debian root file system with <paramref name="packages"/>, made once per release and list.</summary>
    private static async Task<string> DebianBaseAsync(string suite, IReadOnlyList<string> packages, string cache, Action<string> progress, CancellationToken cancellationToken)
    {
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(suite + "\n" + string.Join('\n', packages.Order(StringComparer.Ordinal)))))[..16];
        var path = Path.Combine(cache, $"debian-{suite}-{key}.tar");
        if (File.Exists(path))
        {
            return path;
        }

        progress($"making a Debian {suite} base with {string.Join(' ', packages)} (mmdebstrap, about a minute; cached in {cache})");
        var partial = path + ".partial";
        var (code, output) = await CommandRunner.RunAsync(
            "mmdebstrap",
            [
                "--variant=minbase", "--mode=root", "--format=tar", "--quiet",
                "--include=" + string.Join(',', packages),
                "--dpkgopt=path-exclude=/usr/share/doc/*", "--dpkgopt=path-exclude=/usr/share/man/*", "--dpkgopt=path-exclude=/usr/share/locale/*",
                suite, partial,
            ],
            TimeSpan.FromMinutes(15), cancellationToken: cancellationToken);
        if (code != 0)
        {
            File.Delete(partial);
            throw new InvalidOperationException($"mmdebstrap of Debian {suite} with {string.Join(',', packages)} failed:\n{output}");
        }

        cancellationToken.ThrowIfCancellationRequested();
        File.Move(partial, path, overwrite: true);
        return path;
    }

    /// <summary>The scalar at <paramref name="keys"/> of a YAML file's mapping.</summary>
    private static string YamlScalar(string file, params string[] keys)
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(file))
        {
            yaml.Load(reader);
        }

        YamlNode node = yaml.Documents[0].RootNode;
        foreach (var key in keys)
        {
            node = node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var child)
                ? child
                : throw new InvalidDataException($"{file}: no {string.Join('.', keys)}");
        }

        return node is YamlScalarNode { Value: { } value } ? value : throw new InvalidDataException($"{file}: {string.Join('.', keys)} is not a scalar");
    }
}
