// The agent is Linux only (network namespaces, TUN, iproute2, babeld), and so are its tests.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
