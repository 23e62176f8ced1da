// The lab builds hosts from Linux network namespaces and runs the Linux-only agent: Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
