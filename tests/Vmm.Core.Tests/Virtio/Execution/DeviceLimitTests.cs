using System.Text.RegularExpressions;
using Vmm.Contracts.Virtio;
using Vmm.Core.Tests.InProcess;
using Vmm.Core.Virtio.Execution;
using Vmm.Core.Virtio.Pci;
using Vmm.Testing.Driver;
using Vmm.Testing.InProcess;
using Vmm.Testing.Virtio;
using Xunit;

namespace Vmm.Core.Tests.Virtio.Execution;

/// <summary>
/// Leak containment: a device that keeps descriptors, threads or memory past its <see cref="DeviceLimits"/> is failed
/// (DEVICE_NEEDS_RESET, with why) while another device on the same machine goes on. Other tests run beside these in
/// the same process and open and close descriptors while a call is sampled: one they open makes a leaker fail sooner,
/// and one they close whose number the leaker's next descriptor takes in the same call is missed (the number is in
/// both listings; seen once in CI: 18 requests for a limit of 16), and descriptors they keep open that appeared during
/// a sampled call count as the device's (once each; weighted by the calls the sample stands for only when they land
/// in consecutive samples: before that rule, "leaked about 60" was seen once for a device holding one). So these
/// tests run alone, after the assembly's parallel ones (<see cref="DeviceLimitCollection"/>), and each bounds when
/// the failure comes, with room for a few misses, never how much was counted.
/// </summary>
[Collection(DeviceLimitCollection.Name)]
public sealed partial class DeviceLimitTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    private readonly InProcessMachine _machine = new();
    private readonly List<IDisposable> _owned = [];

    public void Dispose()
    {
        _machine.Dispose();
        _owned.ForEach(d => d.Dispose());
    }

    [Fact]
    public void A_device_that_leaks_descriptors_is_failed_and_another_device_goes_on()
    {
        var limits = new DeviceLimits { FileDescriptors = 16, SampleEvery = 1 };
        (LeakingDevice leaky, VirtioPciTransport transport, VirtioPciDriver bad, VirtioPciDriver good) = TwoDevices(Leak.FileDescriptor, limits);

        int served = ServeUntilFailed(bad, transport, maxRequests: 40);

        // The 17th descriptor kept is one past the limit; allow a few whose numbers other tests' closes freed mid-call.
        Assert.InRange(served, 1, 17 + 4);
        Assert.True(bad.WaitForConfigInterrupt(s_timeout));
        Assert.NotEqual(0, bad.ReadStatus() & VirtioDeviceStatus.DeviceNeedsReset);
        Match reason = LeakReason().Match(transport.Worker.FailureReason ?? "");
        Assert.True(reason.Success, transport.Worker.FailureReason);
        Assert.Equal("file descriptors", reason.Groups["what"].Value);
        Assert.True(int.Parse(reason.Groups["count"].Value, System.Globalization.CultureInfo.InvariantCulture) > 16);
        Assert.Equal("16", reason.Groups["limit"].Value);
        Assert.Equal(served, leaky.Leaks);
        RoundTrip(good, "unaffected");
    }

    [Fact]
    public void What_survives_a_reset_fails_the_device_again_and_what_a_reset_releases_does_not()
    {
        var limits = new DeviceLimits { FileDescriptors = 8, SampleEvery = 1 };
        (LeakingDevice leaky, VirtioPciTransport transport, VirtioPciDriver bad, VirtioPciDriver good) = TwoDevices(Leak.FileDescriptor, limits);
        ServeUntilFailed(bad, transport, maxRequests: 20);

        // The driver resets it; the device's reset keeps the descriptors: at activation it still holds them.
        bad.Initialize();
        Assert.True(SpinWait.SpinUntil(() => transport.Worker.IsFailed, s_timeout));
        Assert.StartsWith("leaked ", transport.Worker.FailureReason, StringComparison.Ordinal);
        Assert.NotEqual(0, bad.ReadStatus() & VirtioDeviceStatus.DeviceNeedsReset);

        // A reset that releases them: the device is healthy again and serves requests.
        leaky.ReleaseOnReset = true;
        bad.Initialize();
        Assert.True(SpinWait.SpinUntil(() => transport.Worker.IsActive, s_timeout));
        int before = leaky.Leaks;
        RoundTripEmpty(bad);
        Assert.Equal(before + 1, leaky.Leaks);
        Assert.False(transport.Worker.IsFailed);
        RoundTrip(good, "still fine");
    }

    [Fact]
    public void A_device_that_leaks_threads_is_failed_and_another_device_goes_on()
    {
        var limits = new DeviceLimits { Threads = 4, SampleEvery = 1 };
        (LeakingDevice leaky, VirtioPciTransport transport, VirtioPciDriver bad, VirtioPciDriver good) = TwoDevices(Leak.Thread, limits);

        int served = ServeUntilFailed(bad, transport, maxRequests: 20);

        Assert.InRange(served, 1, 5);
        Match reason = LeakReason().Match(transport.Worker.FailureReason ?? "");
        Assert.True(reason.Success, transport.Worker.FailureReason);
        Assert.Equal("threads", reason.Groups["what"].Value);
        Assert.Equal("4", reason.Groups["limit"].Value);
        Assert.NotEqual(0, bad.ReadStatus() & VirtioDeviceStatus.DeviceNeedsReset);
        Assert.Equal(served, leaky.Leaks);
        RoundTrip(good, "unaffected");
    }

    [Fact]
    public void A_device_that_keeps_managed_memory_is_failed_and_another_device_goes_on()
    {
        const long limit = 32 << 20;
        var limits = new DeviceLimits { ManagedBytes = limit };
        (LeakingDevice leaky, VirtioPciTransport transport, VirtioPciDriver bad, VirtioPciDriver good) = TwoDevices(Leak.Memory, limits);

        // The check runs after a full collection (asking the GC what is live costs an allocation): one per request.
        int served = ServeUntilFailed(bad, transport, maxRequests: 40, between: () => GC.Collect(2, GCCollectionMode.Forced, blocking: true));

        // 8 blocks of 4 MiB make the limit; other tests' heaps come and go, so leave room either way.
        Assert.InRange(served, 8, 30);
        Assert.Matches(@"^may hold \d+ MiB of managed memory: the live heap grew by that much while it allocated \d+ MiB across \d+ calls \(limit 32 MiB\)$", transport.Worker.FailureReason);
        Assert.NotEqual(0, bad.ReadStatus() & VirtioDeviceStatus.DeviceNeedsReset);
        Assert.Equal(served, leaky.Leaks);
        RoundTrip(good, "unaffected");
    }

    [Fact]
    public void A_sampled_steady_leak_is_estimated_from_the_calls_each_sample_stands_for()
    {
        // One call in about 8 is sampled; each sample stands for the calls since the one before once the next
        // sample repeats it, so the estimate reaches the limit within two sampling gaps (at most 30 calls) of the
        // real count. A sampled call is listed only when the descriptor count rose across it, so one during which
        // another test closed a descriptor is missed, and the sample before it is not confirmed: leave room for a
        // few (two gaps each).
        var device = new LeakingDevice(Leak.FileDescriptor);
        _owned.Add(device);
        using var worker = new VirtioDeviceWorker(device, null, new DeviceLimits { FileDescriptors = 64, SampleEvery = 8 });
        worker.Activate(new EmptyDeviceContext());
        int calls = NotifyUntilFailed(worker, device, maxCalls: 500);

        Assert.InRange(calls, 2, 64 + (2 * 15) + (3 * 2 * 15));
        Assert.Matches(@"^leaked about \d+ file descriptors across \d+ calls \(limit 64\)$", worker.FailureReason);
    }

    [Fact]
    public void A_device_that_closes_what_it_opened_a_call_later_is_not_failed()
    {
        // Every call opens one descriptor and closes the previous call's: one held at a time, whichever calls are
        // sampled. 400 calls, listed around every call and around one in 8.
        foreach (int sampleEvery in new[] { 1, 8 })
        {
            var device = new LeakingDevice(Leak.FileDescriptorClosedNextCall);
            _owned.Add(device);
            using var worker = new VirtioDeviceWorker(device, null, new DeviceLimits { FileDescriptors = 32, SampleEvery = sampleEvery });
            worker.Activate(new EmptyDeviceContext());
            for (int i = 0; i < 400; i++)
            {
                int before = device.Leaks;
                worker.Notify(0);
                Assert.True(SpinWait.SpinUntil(() => (device.Leaks > before && worker.IsBetweenCalls) || worker.IsFailed, s_timeout));
                Assert.False(worker.IsFailed, worker.FailureReason);
            }
        }
    }

    [Fact]
    public void Limits_must_be_positive()
    {
        var device = new LeakingDevice(Leak.FileDescriptor);
        _owned.Add(device);
        Assert.Throws<ArgumentOutOfRangeException>(() => new VirtioDeviceWorker(device, null, new DeviceLimits { FileDescriptors = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VirtioDeviceWorker(device, null, new DeviceLimits { Hang = TimeSpan.Zero }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VirtioDeviceWorker(device, null, new DeviceLimits { SampleEvery = 0 }));
    }

    [GeneratedRegex(@"^leaked (?<count>\d+) (?<what>file descriptors|threads) across \d+ calls \(limit (?<limit>\d+)\)$")]
    private static partial Regex LeakReason();

    private (LeakingDevice Leaky, VirtioPciTransport Transport, VirtioPciDriver Bad, VirtioPciDriver Good) TwoDevices(Leak leak, DeviceLimits limits)
    {
        var leaky = new LeakingDevice(leak);
        _owned.Add(leaky);
        VirtioPciTransport transport = _machine.AttachVirtioDevice(leaky, limits);
        _machine.AttachVirtioDevice(new EchoDevice("healthy"));
        VirtioPciDriver bad = VirtioPciDriver.Open(_machine, VirtioDeviceType.Console, 0);
        VirtioPciDriver good = VirtioPciDriver.Open(_machine, VirtioDeviceType.Console, 1);
        bad.Initialize();
        good.Initialize();
        Assert.True(SpinWait.SpinUntil(() => transport.Worker.IsActive, s_timeout));
        return (leaky, transport, bad, good);
    }

    /// <summary>Sends requests one at a time until the device fails; returns how many it served.</summary>
    private int ServeUntilFailed(VirtioPciDriver driver, VirtioPciTransport transport, int maxRequests, Action? between = null)
    {
        for (int i = 1; i <= maxRequests; i++)
        {
            RoundTripEmpty(driver);
            Assert.True(SpinWait.SpinUntil(() => transport.Worker.IsBetweenCalls, s_timeout));
            if (transport.Worker.IsFailed)
            {
                return i;
            }

            between?.Invoke();
        }

        Assert.Fail($"The device served {maxRequests} requests without being failed.");
        return 0;
    }

    private static int NotifyUntilFailed(VirtioDeviceWorker worker, LeakingDevice device, int maxCalls)
    {
        for (int i = 1; i <= maxCalls; i++)
        {
            int before = device.Leaks;
            worker.Notify(0);
            Assert.True(SpinWait.SpinUntil(() => device.Leaks > before && worker.IsBetweenCalls, s_timeout));
            if (worker.IsFailed)
            {
                return device.Leaks;
            }
        }

        Assert.Fail($"{maxCalls} calls without the device being failed.");
        return 0;
    }

    private void RoundTripEmpty(VirtioPciDriver driver)
    {
        ushort head = driver.Submit(0, [_machine.AllocateBuffer(4)], []);
        Assert.Equal(head, driver.WaitForUsed(0, s_timeout).Head);
    }

    private void RoundTrip(VirtioPciDriver driver, string text) => EchoDevice.RoundTrip(_machine, driver, text, s_timeout);
}

/// <summary>Leak accounting attributes by time: the tests that check it run with no other test of the assembly beside them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DeviceLimitCollection
{
    public const string Name = "device limits (alone)";
}
