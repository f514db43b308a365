using Vmm.Kvm.Probing;
using Xunit;

namespace Vmm.Kvm.Tests.Probing;

public sealed class KvmCapabilityProbeTests(ITestOutputHelper output)
{
    [Fact]
    public void BothLoopsRunAndReportFigures()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();

        KvmProbeResult result = KvmCapabilityProbe.Measure(system);

        output.WriteLine(result.ToString());
        Assert.Equal(KvmCapabilityProbe.DefaultRing0Iterations, result.Ring0Iterations);
        Assert.Equal(KvmCapabilityProbe.DefaultRing3Iterations, result.Ring3Iterations);
        Assert.True(result.Ring0Time > TimeSpan.Zero && result.Ring3Time > TimeSpan.Zero, result.ToString());
        Assert.True(double.IsFinite(result.SlowdownFactor) && result.SlowdownFactor > 0, result.ToString());
    }
}
