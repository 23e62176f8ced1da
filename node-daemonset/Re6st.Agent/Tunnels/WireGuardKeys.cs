using Re6st.Agent.Host;

namespace Re6st.Agent.Tunnels;

/// <summary>A host's WireGuard key pair, made by `wg genkey` / `wg pubkey` (.NET has no X25519).</summary>
public sealed record WireGuardKeys(string PrivateKey, string PublicKey)
{
    /// <summary>The key file in a state directory (only root reads it).</summary>
    public static string FileIn(string stateDirectory) => Path.Combine(stateDirectory, "wireguard.key");

    public static async Task<WireGuardKeys> CreateAsync(HostShell shell, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(shell);
        var privateKey = (await shell.RunCheckedAsync("wg", ["genkey"], cancellationToken).ConfigureAwait(false)).Trim();
        var publicKey = await PublicKeyOfAsync(privateKey, cancellationToken).ConfigureAwait(false)
            ?? throw new HostCommandException("wg pubkey failed on the key wg genkey made");
        return new WireGuardKeys(privateKey, publicKey);
    }

    /// <summary>
    /// The key a previous run of the agent kept in <paramref name="stateDirectory"/>, or a new one.
    /// Tunnels a restarted agent adopts were set up with that key, and peers pinned its public half:
    /// a new key at every start would leave them on a key the host no longer publishes.
    /// </summary>
    public static async Task<WireGuardKeys> LoadOrCreateAsync(HostShell shell, string stateDirectory, CancellationToken cancellationToken)
    {
        var file = FileIn(stateDirectory);
        if (File.Exists(file))
        {
            var kept = (await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false)).Trim();
            if (kept.Length > 0 && await PublicKeyOfAsync(kept, cancellationToken).ConfigureAwait(false) is { } publicKey)
            {
                return new WireGuardKeys(kept, publicKey);
            }
        }

        return await CreateAsync(shell, cancellationToken).ConfigureAwait(false);
    }

    /// <returns>The public key, or null when <paramref name="privateKey"/> is not a WireGuard key.</returns>
    private static async Task<string?> PublicKeyOfAsync(string privateKey, CancellationToken cancellationToken)
    {
        var info = new System.Diagnostics.ProcessStartInfo("wg", "pubkey") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = System.Diagnostics.Process.Start(info) ?? throw new HostCommandException("cannot start wg pubkey");
        await process.StandardInput.WriteLineAsync(privateKey.AsMemory(), cancellationToken).ConfigureAwait(false);
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        await process.StandardError.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return process.ExitCode == 0 && output.Trim() is { Length: > 0 } key ? key : null;
    }
}
