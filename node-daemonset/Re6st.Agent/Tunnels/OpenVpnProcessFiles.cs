namespace Re6st.Agent.Tunnels;

/// <summary>Files of one arrow's openvpn process, and the unprivileged group it drops to.</summary>
public sealed record OpenVpnProcessFiles(string PidFile, string LogFile, string Group);
