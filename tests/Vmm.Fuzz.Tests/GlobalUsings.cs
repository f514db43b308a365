// The harnesses under test are Linux-only (Unix sockets and file modes, KVM boot loaders).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
