using System.Buffers.Binary;
using Microsoft.Extensions.DependencyInjection;
using Vmm.Contracts.Gpu;
using Vmm.Contracts.Virtio;
using static Vmm.Plugins.VirtioGpu.Tests.GpuCommands;

namespace Vmm.Plugins.VirtioGpu.Tests;

/// <summary>Context types from plugins: capsets, CTX_CREATE (including 6.1's default contexts), SUBMIT_3D, ring fences.</summary>
public sealed class VirtioGpuContextTests : IDisposable
{
    private readonly FakeContextType _type = new();
    private readonly ServiceProvider _services;
    private readonly GpuGuest _guest;

    public VirtioGpuContextTests()
    {
        _services = new ServiceCollection().AddSingleton<IGpuContextType>(_type).BuildServiceProvider();
        _guest = new GpuGuest(services: _services);
    }

    public void Dispose()
    {
        _guest.Dispose();
        _services.Dispose();
    }

    [Fact]
    public void Virgl_and_context_init_are_offered_with_one_capset()
    {
        Span<byte> config = stackalloc byte[16];
        _guest.Driver.ReadDeviceConfig(0, config);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(config[12..]));
        Assert.Equal(0x1BUL, _guest.Driver.NegotiatedFeatures & 0x1F);
    }

    [Fact]
    public void Capset_info_and_capset_are_served()
    {
        byte[] info = _guest.Send(With(Header(0x0108, 32), 24, 0), 40);
        Assert.Equal((0x1102u, 5u, 1u, 16u), (U32(info, 0), U32(info, 24), U32(info, 28), U32(info, 32)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, U32(_guest.Send(With(Header(0x0108, 32), 24, 1), 40), 0));

        byte[] capset = _guest.Send(With(With(Header(0x0109, 32), 24, 5), 28, 1), 24 + 16);
        Assert.Equal(0x1103u, U32(capset, 0));
        Assert.All(capset[24..], b => Assert.Equal(0xC5, b));
        Assert.Equal(GpuGuest.ErrInvalidParameter, U32(_guest.Send(With(With(Header(0x0109, 32), 24, 7), 28, 1), 40), 0));
    }

    [Fact]
    public void Contexts_are_created_submitted_to_and_destroyed_and_default_contexts_are_inert()
    {
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(CreateContext(1, capset: 0)));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(CreateContext(2, capset: 5)));
        Assert.Equal(GpuGuest.ErrInvalidContextId, _guest.SendType(CreateContext(2, capset: 5)));
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(CreateContext(3, capset: 9)));

        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(Submit(2, [1, 2, 3])));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(Submit(1, [4])));
        Assert.Equal(GpuGuest.ErrInvalidContextId, _guest.SendType(Submit(9, [4])));
        byte[] lying = Submit(2, [1]);
        BinaryPrimitives.WriteUInt32LittleEndian(lying.AsSpan(24), 4096);
        Assert.Equal(GpuGuest.ErrInvalidParameter, _guest.SendType(lying));

        FakeContext context = Assert.Single(_type.Contexts);
        Assert.Equal("bridge", context.Name);
        Assert.Equal([1, 2, 3], Assert.Single(context.Submits));

        _guest.SendType(Create2D(7, 2, 4, 4));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(With(Header(0x0202, 32, contextId: 2), 24, 7)));
        Assert.Equal(GpuGuest.ErrInvalidResourceId, _guest.SendType(With(Header(0x0202, 32, contextId: 2), 24, 8)));
        Assert.Equal(GpuGuest.ErrInvalidContextId, _guest.SendType(With(Header(0x0202, 32, contextId: 5), 24, 7)));
        Assert.Equal([7u], context.Attached);

        // An unref without a detach first still takes the resource away from the context, before its memory goes.
        _guest.SendType(Create2D(8, 2, 4, 4));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(With(Header(0x0202, 32, contextId: 2), 24, 8)));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(Unref(8)));
        Assert.Equal([7u], context.Attached);

        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(Header(0x0201, 24, contextId: 2)));
        Assert.True(context.Disposed);
        Assert.Equal(GpuGuest.ErrInvalidContextId, _guest.SendType(Header(0x0201, 24, contextId: 2)));
    }

    [Fact]
    public void A_ring_fenced_submit_is_answered_only_when_the_context_signals_its_fence()
    {
        _guest.SendType(CreateContext(2, capset: 5));
        byte[] submit = Submit(2, [9]);
        BinaryPrimitives.WriteUInt32LittleEndian(submit.AsSpan(4), 3); // FENCE | INFO_RING_IDX
        BinaryPrimitives.WriteUInt64LittleEndian(submit.AsSpan(8), 77);
        submit[20] = 1;
        GuestBuffer response = _guest.Post(submit);

        // Another command completes while the fence is pending.
        Assert.Equal(0x1101u, U32(_guest.Send(GetDisplayInfo(), 408), 0));
        FakeContext context = Assert.Single(_type.Contexts);
        Assert.Equal([(1u, 77UL)], context.Fences);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(_guest.Machine.Memory.GetSpan(response.Address, 4)));

        context.Host.CompleteFence(1, 77);
        _guest.Driver.WaitForUsed(0, TimeSpan.FromSeconds(10));

        byte[] bytes = _guest.Machine.Memory.GetSpan(response.Address, 24).ToArray();
        Assert.Equal((0x1100u, 3u), (U32(bytes, 0), U32(bytes, 4)));
        Assert.Equal(77UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8)));
        Assert.Equal((2u, (byte)1), (U32(bytes, 16), bytes[20]));
    }

    [Fact]
    public void A_fence_the_context_signals_inside_CreateFence_is_answered()
    {
        // The query ring's way: the answer is written during SUBMIT_3D, so the fence signals before the request parks.
        _type.SignalFencesAtOnce = true;
        _guest.SendType(CreateContext(3, capset: 5));
        byte[] answer = _guest.Send(FencedSubmit(3, fence: 88, ring: 0));

        Assert.Equal((0x1100u, 3u), (U32(answer, 0), U32(answer, 4)));
        Assert.Equal(88UL, BinaryPrimitives.ReadUInt64LittleEndian(answer.AsSpan(8)));
    }

    [Fact]
    public void Fences_signalled_on_other_threads_while_the_worker_answers_commands_each_return_their_request_once()
    {
        // Contexts complete fences on their own threads (as libkrun's fence handler): those pushes and the worker's
        // must not lose, repeat or mix up a request.
        const int contexts = 8, others = 40;
        var fenced = new Dictionary<ulong, GuestBuffer>();
        for (uint i = 0; i < contexts; i++)
        {
            Assert.Equal(0x1100u, _guest.SendType(CreateContext(10 + i, capset: 5)));
            fenced[500 + i] = _guest.Post(FencedSubmit(10 + i, fence: 500 + i, ring: 1));
        }

        // Answered after the fenced submits were taken (queue order), so every context has its fence now.
        Assert.Equal(0x1101u, U32(_guest.Send(GetDisplayInfo(), 408), 0));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(_guest.Machine.Memory.GetSpan(fenced[500].Address, 4)));
        Thread[] signallers = [.. _type.Contexts.Select(context => new Thread(() => context.Host.CompleteFence(1, context.Fences.Single().Fence)))];
        foreach (Thread signaller in signallers)
        {
            signaller.Start();
        }

        for (int i = 0; i < others; i++)
        {
            _guest.Post(GetDisplayInfo());
        }

        foreach (Thread signaller in signallers)
        {
            signaller.Join();
        }

        var heads = new HashSet<ushort>();
        while (heads.Count < contexts + others)
        {
            (ushort head, _) = _guest.Driver.WaitForUsed(0, TimeSpan.FromSeconds(10));
            Assert.True(heads.Add(head), $"request {head} came back twice");
        }

        Assert.False(_guest.Driver.GetQueue(0).HasPendingUsed);
        foreach ((ulong fence, GuestBuffer response) in fenced)
        {
            byte[] bytes = _guest.Machine.Memory.GetSpan(response.Address, 24).ToArray();
            Assert.Equal((0x1100u, fence), (U32(bytes, 0), BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8))));
        }
    }

    private static byte[] FencedSubmit(uint context, ulong fence, byte ring)
    {
        byte[] submit = Submit(context, [9]);
        BinaryPrimitives.WriteUInt32LittleEndian(submit.AsSpan(4), 3); // FENCE | INFO_RING_IDX
        BinaryPrimitives.WriteUInt64LittleEndian(submit.AsSpan(8), fence);
        submit[20] = ring;
        return submit;
    }

    private static byte[] CreateContext(uint id, uint capset)
    {
        byte[] command = Header(0x0200, 96, contextId: id);
        BinaryPrimitives.WriteUInt32LittleEndian(command.AsSpan(24), 6);
        BinaryPrimitives.WriteUInt32LittleEndian(command.AsSpan(28), capset);
        "bridge"u8.CopyTo(command.AsSpan(32));
        return command;
    }

    private static byte[] Submit(uint context, byte[] payload)
    {
        byte[] command = Header(0x0207, 32 + payload.Length, contextId: context);
        BinaryPrimitives.WriteUInt32LittleEndian(command.AsSpan(24), (uint)payload.Length);
        payload.CopyTo(command, 32);
        return command;
    }

    private static byte[] With(byte[] command, int offset, uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(command.AsSpan(offset), value);
        return command;
    }

    private sealed class FakeContextType : IGpuContextType
    {
        public List<FakeContext> Contexts { get; } = [];

        public bool SignalFencesAtOnce { get; set; }

        public uint CapsetId => 5;

        public uint CapsetMaxVersion => 1;

        public int CapsetMaxSize => 16;

        public int WriteCapset(uint version, Span<byte> destination)
        {
            destination[..16].Fill(0xC5);
            return 16;
        }

        public IGpuContext CreateContext(GpuContextCreateInfo info, IGpuContextHost host)
        {
            var context = new FakeContext(info.DebugName, host, SignalFencesAtOnce);
            Contexts.Add(context);
            return context;
        }
    }

    private sealed class FakeContext(string name, IGpuContextHost host, bool signalAtOnce) : IGpuContext
    {
        public string Name => name;

        public IGpuContextHost Host => host;

        public List<byte[]> Submits { get; } = [];

        public List<(uint Ring, ulong Fence)> Fences { get; } = [];

        public List<uint> Attached { get; } = [];

        public bool Disposed { get; private set; }

        public void Submit(ReadOnlySpan<byte> commands) => Submits.Add(commands.ToArray());

        public void CreateFence(uint ringIndex, ulong fenceId)
        {
            Fences.Add((ringIndex, fenceId));
            if (signalAtOnce)
            {
                host.CompleteFence(ringIndex, fenceId);
            }
        }

        public void AttachResource(IGpuResource resource) => Attached.Add(resource.Id);

        public void DetachResource(uint resourceId) => Attached.Remove(resourceId);

        public IGpuBlob? CreateBlob(uint resourceId, ulong blobId, ulong size) => null;

        public void Dispose() => Disposed = true;
    }
}
