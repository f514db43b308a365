using Microsoft.Win32.SafeHandles;
using Vmm.Core.Virtio.Execution;
using Xunit;

namespace Vmm.Core.Tests.Virtio.Execution;

/// <summary>
/// The meter alone, driven call by call on the test thread as a worker drives it, so a test knows which calls are
/// sampled and what each stands for. Attribution is by time, so these run alone too (<see cref="DeviceLimitCollection"/>).
/// </summary>
[Collection(DeviceLimitCollection.Name)]
public sealed class DeviceResourceMeterTests
{
    [Fact]
    public void Descriptors_another_thread_keeps_from_a_healthy_devices_sampled_calls_count_once_each()
    {
        // A healthy device (its calls keep nothing) at the default limits. Another thread (a VNC sink accepting a
        // client, another device's worker) opens 17 descriptors during some of its sampled calls and keeps them.
        // Weighted by the 257 or more calls such a sample stands for, one burst alone would read as 17 x 257 = 4,369
        // (over the 4,096 limit). Bursts come in samples with one or more quiet samples between, as a bystander's do.
        const int perBurst = 17;
        const int bursts = 6;
        using var meter = new DeviceResourceMeter(DeviceLimits.Default, "healthy");
        using var bystander = new Bystander(perBurst);
        int burstsDone = 0;
        bool previousSampleHadBurst = false;
        for (long call = 0; burstsDone < bursts; call++)
        {
            Assert.True(call < 1_000_000, $"only {burstsDone} bursts in {call} calls");
            meter.Begin(always: false);
            int weight = meter.SampledCallWeight;
            bool burst = weight > 256 && !previousSampleHadBurst;
            if (burst)
            {
                bystander.OpenAndKeep(); // returns once the other thread has opened them: during this call
                burstsDone++;
            }

            Assert.Null(meter.End());
            if (weight > 0)
            {
                previousSampleHadBurst = burst;
            }
        }

        // Each counts as itself, as listing around every call would count it; none stands for 257 calls.
        Assert.Equal(bursts * perBurst, bystander.Kept);
        Assert.InRange(meter.HeldFileDescriptors, 0, perBurst * 257);
    }

    [Fact]
    public void A_device_that_keeps_a_descriptor_on_every_call_is_failed_within_two_sampling_gaps_of_its_limit()
    {
        // One call in about 32 is sampled (gaps of 1 to 63 calls). A sample's descriptor counts for the calls before
        // it once the next sample repeats it, so the estimate trails the real count by one or two gaps: failed once
        // 128 are kept, within two gaps (126 calls) of that, with room for two samples missed because another
        // thread closed a descriptor during them (each costs two gaps more).
        const int limit = 128;
        using var meter = new DeviceResourceMeter(DeviceLimits.Default with { FileDescriptors = limit, SampleEvery = 32 }, "leaky");
        var kept = new List<SafeFileHandle>();
        try
        {
            string? reason = null;
            while (reason is null)
            {
                Assert.True(kept.Count < limit + (2 * 63) + (2 * 2 * 63), $"{kept.Count} kept and not failed");
                meter.Begin(always: false);
                kept.Add(File.OpenHandle("/dev/null"));
                reason = meter.End();
            }

            Assert.InRange(kept.Count, limit / 2, limit + (2 * 63) + (2 * 2 * 63));
            Assert.Matches(@"^leaked about \d+ file descriptors across \d+ calls \(limit 128\)$", reason);
        }
        finally
        {
            kept.ForEach(h => h.Dispose());
        }
    }

    [Fact]
    public void A_device_that_holds_descriptors_for_one_call_is_charged_what_it_holds()
    {
        // A call opens 16 descriptors and the next closes them (a request held until its completion): at most 16
        // held. A sample that catches them open stands for 257 calls or more here, 16 x 257 = 4,112 over the
        // default 4,096, but they are gone by the next sample, so nothing is extrapolated from them.
        const int held = 16;
        using var meter = new DeviceResourceMeter(DeviceLimits.Default, "holder");
        var open = new List<SafeFileHandle>();
        int caughtOpen = 0;
        for (long call = 0; caughtOpen < 4; call++)
        {
            Assert.True(call < 1_000_000, $"caught them open in only {caughtOpen} heavy samples in {call} calls");
            meter.Begin(always: false);
            bool opening = open.Count == 0;
            if (opening)
            {
                for (int i = 0; i < held; i++)
                {
                    open.Add(File.OpenHandle("/dev/null"));
                }
            }
            else
            {
                open.ForEach(h => h.Dispose());
                open.Clear();
            }

            caughtOpen += opening && meter.SampledCallWeight > 256 ? 1 : 0;
            Assert.Null(meter.End());
        }

        open.ForEach(h => h.Dispose());
        Assert.InRange(meter.HeldFileDescriptors, 0, held * 257);
    }

    /// <summary>A thread that opens descriptors when asked and keeps them until disposed.</summary>
    private sealed class Bystander : IDisposable
    {
        private readonly int _perBurst;
        private readonly List<SafeFileHandle> _kept = [];
        private readonly SemaphoreSlim _go = new(0);
        private readonly SemaphoreSlim _done = new(0);
        private readonly Thread _thread;
        private volatile bool _stop;

        public Bystander(int perBurst)
        {
            _perBurst = perBurst;
            _thread = new Thread(Run) { IsBackground = true, Name = "bystander" }; // started outside any call
            _thread.Start();
        }

        public int Kept => _kept.Count;

        public void OpenAndKeep()
        {
            _go.Release();
            Assert.True(_done.Wait(TimeSpan.FromSeconds(10)));
        }

        public void Dispose()
        {
            _stop = true;
            _go.Release();
            _thread.Join();
            _kept.ForEach(h => h.Dispose());
            _go.Dispose();
            _done.Dispose();
        }

        private void Run()
        {
            while (true)
            {
                _go.Wait();
                if (_stop)
                {
                    return;
                }

                for (int i = 0; i < _perBurst; i++)
                {
                    _kept.Add(File.OpenHandle("/dev/null"));
                }

                _done.Release();
            }
        }
    }
}
