using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Re6st.Contracts;
using Re6st.Core.Policy;
using Re6st.Operator.Resources;

namespace Re6st.Operator.Reconcile;

/// <summary>
/// The Babel HMAC keys of a mesh (RFC 8967), in a Secret of the operator's namespace. Each entry is
/// a key id and 32 random bytes in hex; the annotation names the key that signs. Rotation adds a new
/// key and makes it sign while the previous one is still accepted, and drops the one before: a
/// host that has not yet seen the new key keeps its adjacencies for a whole rotation period.
/// </summary>
public sealed class KeySecrets(IKubernetes client, string @namespace, TimeProvider time)
{
    public const string SigningAnnotation = Group.SigningKeyAnnotation;
    public static readonly TimeSpan DefaultRotation = TimeSpan.FromHours(720);

    public static string NameFor(string mesh) => $"re6st-babel-{mesh}";

    /// <summary>Creates or rotates the mesh's key Secret; returns "namespace/name".</summary>
    public async Task<string> EnsureAsync(V1Alpha1Mesh mesh, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        var name = NameFor(mesh.Metadata.Name);
        var rotation = RotationOf(mesh);
        var now = time.GetUtcNow();
        var existing = await ReadAsync(name, cancellationToken).ConfigureAwait(false);
        if (existing is null)
        {
            var (id, value) = NewKey(now);
            var secret = new V1Secret
            {
                Metadata = new V1ObjectMeta
                {
                    Name = name,
                    NamespaceProperty = @namespace,
                    Labels = new Dictionary<string, string> { [Group.MeshLabel] = mesh.Metadata.Name },
                    Annotations = new Dictionary<string, string> { [SigningAnnotation] = id },
                },
                Type = "Opaque",
                Data = new Dictionary<string, byte[]> { [id] = value },
            };
            await client.CoreV1.CreateNamespacedSecretAsync(secret, @namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        else if (RotationDue(existing, rotation, now))
        {
            var signing = Annotation(existing, SigningAnnotation);
            var (id, value) = NewKey(now);
            var data = new Dictionary<string, byte[]> { [id] = value };
            if (signing is not null && existing.Data?.TryGetValue(signing, out var previous) == true)
            {
                data[signing] = previous;
            }

            existing.Data = data;
            existing.Metadata.Annotations ??= new Dictionary<string, string>();
            existing.Metadata.Annotations[SigningAnnotation] = id;
            await client.CoreV1.ReplaceNamespacedSecretAsync(existing, name, @namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        return $"{@namespace}/{name}";
    }

    public async Task DeleteAsync(string mesh, CancellationToken cancellationToken)
    {
        try
        {
            await client.CoreV1.DeleteNamespacedSecretAsync(NameFor(mesh), @namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }

    private async Task<V1Secret?> ReadAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return await client.CoreV1.ReadNamespacedSecretAsync(name, @namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>How often <paramref name="mesh"/>'s key rotates (spec.babel.keyRotationPeriod, else 720h).</summary>
    public static TimeSpan RotationOf(V1Alpha1Mesh mesh)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        return GoDuration.TryParse(mesh.Spec.Babel?.KeyRotationPeriod, out var r, out _) && r > TimeSpan.Zero ? r : DefaultRotation;
    }

    /// <summary>When the key <paramref name="id"/> was made: key ids are "k" and the creation time in Unix seconds, so their age is in their name.</summary>
    public static DateTimeOffset? CreatedAt(string? id) =>
        id is ['k', .. var seconds] && long.TryParse(seconds, NumberStyles.None, CultureInfo.InvariantCulture, out var created)
            ? DateTimeOffset.FromUnixTimeSeconds(created)
            : null;

    /// <summary>The key that signs, as the Secret's annotation names it (null when none).</summary>
    public static string? SigningKeyOf(V1Secret secret) => Annotation(secret, SigningAnnotation);

    private static bool RotationDue(V1Secret secret, TimeSpan rotation, DateTimeOffset now)
    {
        var signing = SigningKeyOf(secret);
        return signing is null || secret.Data?.ContainsKey(signing) != true || CreatedAt(signing) is not { } created
            || now - created >= rotation;
    }

    private static string? Annotation(V1Secret secret, string key) =>
        secret.Metadata.Annotations is { } a && a.TryGetValue(key, out var v) ? v : null;

    private static (string Id, byte[] Value) NewKey(DateTimeOffset now) =>
        ("k" + now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
         Encoding.ASCII.GetBytes(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32))));
}
