// These tests run a local kube-apiserver and the Linux-only agent: Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
