// The harnesses drive Linux-only code (Unix file modes, Unix sockets, KVM boot loaders).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
