namespace Vmm.Plugins.CrossDomain.Tests;

/// <summary>A real Xvfb as the host display, one virtio-gpu with the cross-domain context type, and the X11 bridge on a free display.</summary>
public sealed class BridgeFixture : IDisposable
{
    public BridgeFixture()
    {
        Xvfb = new XvfbServer();
        if (Xvfb.SkipReason is not null)
        {
            return;
        }

        Gpu = CrossDomainGuestGpu.ForX11Display(Xvfb.Display);
        Bridge = X11Bridge.StartOnFreeDisplay(Gpu);
    }

    public XvfbServer Xvfb { get; }

    public CrossDomainGuestGpu? Gpu { get; }

    public X11Bridge? Bridge { get; }

    /// <summary>The bridge's DISPLAY.</summary>
    public string Display => Bridge!.Display!;

    /// <summary>Skips the calling test where Xvfb or <paramref name="programs"/> are missing.</summary>
    public void SkipUnlessReady(params string[] programs)
    {
        if (Xvfb.SkipReason is string reason)
        {
            Assert.Skip(reason);
        }

        foreach (string program in programs)
        {
            if (program == "x11-probe" && XProbe.SkipReason is string why)
            {
                Assert.Skip(why);
            }

            if (program != "x11-probe" && Vmm.Core.Hosting.ExecutableSearch.FindOnPath(program) is null)
            {
                Assert.Skip($"{program} is not installed (tools/install-deps.sh installs it)");
            }
        }
    }

    public void Dispose()
    {
        Bridge?.Dispose();
        Gpu?.Dispose();
        Xvfb.Dispose();
    }
}
