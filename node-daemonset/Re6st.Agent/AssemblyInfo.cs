// The agent drives Linux networking (network namespaces, TUN, iproute2, babeld): Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
