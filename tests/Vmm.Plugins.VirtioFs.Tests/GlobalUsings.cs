global using Xunit;

// The device is a Linux passthrough server: its tests run on Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
