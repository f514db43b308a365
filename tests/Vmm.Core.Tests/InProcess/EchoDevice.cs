using System.Buffers.Binary;
using Vmm.Contracts.Virtio;
using Vmm.Testing.Driver;
using Vmm.Testing.InProcess;
using Xunit;

namespace Vmm.Core.Tests.InProcess;

/// <summary>
/// A small virtio device for tests: queue 0 copies each request's readable bytes into its writable buffers. Its
/// 8-byte config holds a read-only magic (0..3) and a writable word (4..7). <see cref="ThrowOnNextRequest"/> makes
/// it fail like a buggy plugin.
/// </summary>
internal sealed class EchoDevice(string id = "echo", VirtioDeviceType type = VirtioDeviceType.Console) : IVirtioDevice
{
    public const uint Magic = 0xEC40_0001;

    /// <summary>Sends <paramref name="text"/> on queue 0 of the echo device <paramref name="driver"/> drives and checks it comes back.</summary>
    public static void RoundTrip(InProcessMachine machine, VirtioPciDriver driver, string text, TimeSpan timeout)
    {
        byte[] bytes = System.Text.Encoding.ASCII.GetBytes(text);
        GuestBuffer request = machine.AllocateBuffer((uint)bytes.Length);
        GuestBuffer response = machine.AllocateBuffer(64);
        machine.Memory.Write(request.Address, bytes);
        ushort head = driver.Submit(0, [request], [response]);
        (ushort usedHead, uint length) = driver.WaitForUsed(0, timeout);
        Assert.Equal(head, usedHead);
        Assert.Equal(bytes, machine.Memory.GetSpan(response.Address, (int)length).ToArray());
    }

    public const ulong FeatureBit = 1UL << 3;

    private readonly Lock _config = new();
    private uint _writable;
    private IVirtioDeviceContext? _context;
    private volatile bool _throwOnNextRequest;
    private int _resets;

    public string Id { get; } = id;

    public VirtioDeviceType DeviceType { get; } = type;

    public ulong DeviceFeatures => FeatureBit;

    public IReadOnlyList<ushort> QueueMaxSizes { get; init; } = [64];

    public IReadOnlyList<SharedMemoryRegionRequest> SharedMemoryRegions { get; init; } = [];

    public int ConfigSize { get; init; } = 8;

    public bool ThrowOnNextRequest
    {
        get => _throwOnNextRequest;
        set => _throwOnNextRequest = value;
    }

    public int ResetCount => Volatile.Read(ref _resets);

    public IVirtioDeviceContext? Context => Volatile.Read(ref _context);

    public void ReadConfig(int offset, Span<byte> data)
    {
        Span<byte> image = stackalloc byte[8];
        lock (_config)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(image, Magic);
            BinaryPrimitives.WriteUInt32LittleEndian(image[4..], _writable);
        }

        image.Slice(offset, data.Length).CopyTo(data);
    }

    public void WriteConfig(int offset, ReadOnlySpan<byte> data)
    {
        lock (_config)
        {
            Span<byte> image = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(image, _writable);
            for (int i = 0; i < data.Length; i++)
            {
                if (offset + i >= 4)
                {
                    image[offset + i - 4] = data[i];
                }
            }

            _writable = BinaryPrimitives.ReadUInt32LittleEndian(image);
        }
    }

    public void Activate(IVirtioDeviceContext context) => Volatile.Write(ref _context, context);

    public void ProcessQueue(int queueIndex)
    {
        IVirtqueue queue = _context!.Queues[queueIndex];
        byte[] buffer = new byte[4096];
        bool pushed = false;
        while (queue.TryPop(out DescriptorChain? chain))
        {
            if (ThrowOnNextRequest)
            {
                throw new InvalidOperationException("Simulated plugin bug.");
            }

            int length = chain.Read(0, buffer);
            int written = chain.Write(0, buffer.AsSpan(0, length));
            queue.Push(chain, (uint)written);
            pushed = true;
        }

        if (pushed)
        {
            queue.NotifyGuest();
        }
    }

    public void Reset()
    {
        Volatile.Write(ref _context, null);
        Interlocked.Increment(ref _resets);
    }

    public void Dispose()
    {
    }
}
