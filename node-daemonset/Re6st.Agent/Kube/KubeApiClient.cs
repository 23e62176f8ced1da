using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace Re6st.Agent.Kube;

/// <summary>
/// The agent's client of the Kubernetes API: list, watch (one JSON event a line) and merge-patch,
/// over HTTP with generated JSON. The agent is a native program, and KubernetesClient needs
/// reflection (its JSON and kubeconfig reading) while KubernetesClient.Aot has no watch and reads
/// custom resources only through its own fixed set of types; the operator keeps KubernetesClient.
/// </summary>
public sealed class KubeApiClient : IDisposable
{
    /// <summary>A list or a patch that takes longer than this has failed (a watch lasts as long as the server keeps it).</summary>
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);

    private readonly KubeConnection _connection;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;

    public KubeApiClient(KubeConnection connection, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        _time = time ?? TimeProvider.System;
        var handler = new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) };
        if (connection.SkipTlsVerify)
        {
#pragma warning disable CA5359 // The kubeconfig asks for it (insecure-skip-tls-verify: true), as kubectl honours it.
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
#pragma warning restore CA5359
        }
        else if (connection.Authority is { } authority)
        {
            // The cluster's own CA, and only it: the system's trust store has no say.
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.AddRange(authority);
            handler.SslOptions.CertificateChainPolicy = policy;
        }

        if (connection.ClientCertificate is { } certificate)
        {
            handler.SslOptions.ClientCertificates = [certificate];
        }

        _http = new HttpClient(handler) { BaseAddress = connection.Server, Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>How far this host's clock is from the API server's, from its answers.</summary>
    public ClockOffset Clock { get; } = new();

    /// <summary>GETs the list at <paramref name="path"/> (with its query: selectors).</summary>
    public async Task<T> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(type);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        using var request = Request(HttpMethod.Get, path);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
        await EnsureSuccessAsync(response, request, timeout.Token).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
        return await JsonSerializer.DeserializeAsync(body, type, timeout.Token).ConfigureAwait(false)
            ?? throw new InvalidDataException($"{path}: empty answer");
    }

    /// <summary>The events of the watch at <paramref name="path"/>, until the server ends the stream.</summary>
    public async IAsyncEnumerable<T> WatchAsync<T>(string path, JsonTypeInfo<T> type, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(type);
        using var request = Request(HttpMethod.Get, path);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, request, cancellationToken).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(body);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.Length > 0 && JsonSerializer.Deserialize(line, type) is { } item)
            {
                yield return item;
            }
        }
    }

    /// <summary>A JSON merge patch of <paramref name="path"/> (null fields in <paramref name="patch"/> are left out).</summary>
    public Task MergePatchAsync<T>(string path, T patch, JsonTypeInfo<T> type, CancellationToken cancellationToken) =>
        MergePatchAsync(path, JsonSerializer.SerializeToUtf8Bytes(patch, type), cancellationToken);

    /// <summary>A JSON merge patch built as a tree, where an explicit null removes a field.</summary>
    public Task MergePatchAsync(string path, JsonObject patch, CancellationToken cancellationToken) =>
        MergePatchAsync(path, Encoding.UTF8.GetBytes(patch.ToJsonString()), cancellationToken);

    private async Task MergePatchAsync(string path, byte[] body, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        using var request = Request(HttpMethod.Patch, path);
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/merge-patch+json");
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
        await EnsureSuccessAsync(response, request, timeout.Token).ConfigureAwait(false);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Sends a request, reading the server's clock off its answer (<see cref="Clock"/>).</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        var sent = _time.GetUtcNow();
        var response = await _http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
        Clock.Observe(sent, _time.GetUtcNow(), response.Headers.Date);
        return response;
    }

    private HttpRequestMessage Request(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var token = _connection.TokenFile is { } file ? File.ReadAllText(file).Trim() : _connection.Token;
        if (!string.IsNullOrEmpty(token))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new KubeApiException(response.StatusCode, $"{request.Method} {request.RequestUri}: {(int)response.StatusCode} {response.StatusCode}: {body}");
        }
    }
}

/// <summary>The API server answered with an error status.</summary>
public sealed class KubeApiException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}
